using MnistCnn.Core.Models;
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
    private readonly Dictionary<string, Tensor> _fixture = SafeTensorsFormat.Read(
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch", "convnet-adam.safetensors")), "fixture");

    [Fact]
    public void Forward_PyTorchWeights_GivesPyTorchsLogitsAndLoss()
    {
        using var model = ModelWithInitialWeights();
        using var scope = NewDisposeScope();

        var logits = model.call(_fixture["batch0.images"]);
        var loss = nn.functional.cross_entropy(logits, _fixture["batch0.labels"]);

        MaxDifference(logits, _fixture["batch0.logits"]).Should().BeLessThan(Tolerance);
        ((double)Math.Abs(loss.item<float>() - _fixture["batch0.loss"].item<float>())).Should().BeLessThan(Tolerance);
    }

    [Fact]
    public void Backward_PyTorchWeights_GivesPyTorchsGradients()
    {
        using var model = ModelWithInitialWeights();
        using var scope = NewDisposeScope();

        nn.functional.cross_entropy(model.call(_fixture["batch0.images"]), _fixture["batch0.labels"]).backward();

        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var name in Parameters)
        {
            MaxDifference(parameters[name].grad!, _fixture["grad0." + name]).Should().BeLessThan(Tolerance, name);
        }
    }

    [Fact]
    public void FusedStep_PyTorchWeights_GivesPyTorchsLossAndGradients()
    {
        using var model = ModelWithInitialWeights();
        var trainer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu });
        using var optimizer = trainer.CreateOptimizer(model);
        using var scope = NewDisposeScope();

        ConvNetTrainingStep.TryComputeGradients(model, optimizer, _fixture["batch0.images"], _fixture["batch0.labels"], out var loss).Should().BeTrue();

        Math.Abs(loss - _fixture["batch0.loss"].item<float>()).Should().BeLessThan(Tolerance);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var name in Parameters)
        {
            MaxDifference(parameters[name].grad!, _fixture["grad0." + name]).Should().BeLessThan(Tolerance, name);
        }
    }

    [Fact]
    public void TrainerStep_OneAdamStep_GivesPyTorchsWeights()
    {
        using var model = ModelWithInitialWeights();
        var trainer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu });
        using var optimizer = trainer.CreateOptimizer(model);

        using (var scope = NewDisposeScope())
        {
            ConvNetTrainingStep.Applies(model, _fixture["batch0.images"], _fixture["batch0.labels"]).Should().BeTrue("the step under test is the fused managed one");
            Trainer.Step(model, optimizer, _fixture["batch0.images"], _fixture["batch0.labels"]);
        }

        AssertWeights(model, "step1.", Tolerance);
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
            ConvNetTrainingStep.Applies(model, _fixture[$"batch{b}.images"], _fixture[$"batch{b}.labels"]).Should().BeTrue("the step under test is the fused managed one");
            losses.Add(Trainer.Step(model, optimizer, _fixture[$"batch{b}.images"], _fixture[$"batch{b}.labels"]));
        }

        var expected = _fixture["step3.losses"].data<float>().ToArray();
        for (var b = 0; b < 3; b++)
        {
            // The losses after the first step are about 14 and 18, so they are compared relatively.
            (Math.Abs(losses[b] - expected[b]) / Math.Abs(expected[b])).Should().BeLessThan(Tolerance, $"loss {b}");
        }

        AssertWeights(model, "step3.", Tolerance);
    }

    [Fact]
    public void Constructor_SameSeedAsPyTorch_GivesPyTorchsInitialWeights()
    {
        using var model = new ConvNet(seed: 1234);

        AssertWeights(model, "init.", 0);
    }

    public void Dispose()
    {
        foreach (var tensor in _fixture.Values)
        {
            tensor.Dispose();
        }
    }

    private static double MaxDifference(Tensor actual, Tensor expected)
    {
        using var difference = actual.detach().sub(expected).abs().max();
        return difference.item<float>();
    }

    private ConvNet ModelWithInitialWeights()
    {
        var model = new ConvNet();
        using var noGrad = no_grad();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var name in Parameters)
        {
            parameters[name].copy_(_fixture["init." + name]);
        }

        return model;
    }

    private void AssertWeights(ConvNet model, string prefix, double tolerance)
    {
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var name in Parameters)
        {
            MaxDifference(parameters[name], _fixture[prefix + name]).Should().BeLessThanOrEqualTo(tolerance, prefix + name);
        }
    }
}
