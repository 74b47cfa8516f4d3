using MnistCnn.Core.Engine;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Training;

/// <summary>
/// Same weights and batches as PyTorch 2.6 give PyTorch's numbers. The fixture was written by
/// <c>tests/peer/make_fixture.py</c> (see tests/peer/README.md).
/// </summary>
[Collection(TorchGlobalState.Name)]
public sealed class PyTorchFixtureTests : IDisposable
{
    private const double Tolerance = 1e-5;
    private static readonly string[] Parameters = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "linear1.weight", "linear1.bias"];
    private readonly PyTorchFixture _fixture = new("convnet-adam.safetensors");

    [Fact]
    public void Forward_PyTorchWeights_GivesPyTorchsLogitsAndLoss()
    {
        using var model = ModelWithInitialWeights();

        _fixture.AssertForwardMatches(model, Tolerance);
    }

    [Fact]
    public void Backward_PyTorchWeights_GivesPyTorchsGradients()
    {
        using var model = ModelWithInitialWeights();

        _fixture.AssertGradientsMatch(model, Parameters, Tolerance);
    }

    [Fact]
    public void FusedStep_PyTorchWeights_GivesPyTorchsLossAndGradients()
    {
        using var model = ModelWithInitialWeights();
        var trainer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu });
        using var optimizer = trainer.CreateOptimizer(model);
        using var scope = NewDisposeScope();

        ManagedTraining.TryComputeGradients(model, optimizer, _fixture["batch0.images"], _fixture["batch0.labels"], out var loss).Should().BeTrue();

        Math.Abs(loss - _fixture["batch0.loss"].item<float>()).Should().BeLessThan(Tolerance);
        _fixture.AssertMatches(model, Parameters, "grad0.", Tolerance, gradients: true);
    }

    [Fact]
    public void TrainerStep_OneAdamStep_GivesPyTorchsWeights()
    {
        using var model = ModelWithInitialWeights();
        var trainer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu });
        using var optimizer = trainer.CreateOptimizer(model);

        using (var scope = NewDisposeScope())
        {
            ManagedTraining.Applies(model, _fixture["batch0.images"], _fixture["batch0.labels"]).Should().BeTrue("the step under test is the fused managed one");
            Trainer.Step(model, optimizer, _fixture["batch0.images"], _fixture["batch0.labels"]);
        }

        _fixture.AssertMatches(model, Parameters, "step1.", Tolerance);
    }

    [Fact]
    public void TrainerStep_ThreeAdamSteps_GivesPyTorchsLossesAndWeights()
    {
        using var model = ModelWithInitialWeights();
        var trainer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu });
        using var optimizer = trainer.CreateOptimizer(model);
        var losses = new List<double>();

        for (var b = 0; b < 3; b++)
        {
            using var scope = NewDisposeScope();
            ManagedTraining.Applies(model, _fixture[$"batch{b}.images"], _fixture[$"batch{b}.labels"]).Should().BeTrue("the step under test is the fused managed one");
            losses.Add(Trainer.Step(model, optimizer, _fixture[$"batch{b}.images"], _fixture[$"batch{b}.labels"]));
        }

        var expected = _fixture["step3.losses"].data<float>().ToArray();
        for (var b = 0; b < 3; b++)
        {
            // The losses after the first step are about 14 and 18, so they are compared relatively.
            (Math.Abs(losses[b] - expected[b]) / Math.Abs(expected[b])).Should().BeLessThan(Tolerance, $"loss {b}");
        }

        _fixture.AssertMatches(model, Parameters, "step3.", Tolerance);
    }

    [Fact]
    public void Constructor_SameSeedAsPyTorch_GivesPyTorchsInitialWeights()
    {
        using var model = new ConvNet(seed: 1234);

        _fixture.AssertMatches(model, Parameters, "init.", 0);
    }

    public void Dispose() => _fixture.Dispose();

    private ConvNet ModelWithInitialWeights() => _fixture.WithInitialWeights(new ConvNet(), Parameters);
}
