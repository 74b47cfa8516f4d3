using MnistCnn.Core.Engine;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Models;

/// <summary>
/// A network of the engine's generic layers against PyTorch: same seed, same initial weights; same weights and
/// batch, PyTorch's logits, loss, gradients and first Adam step, through torch and through the managed engine (the
/// trainer's step, the classifier's logits). Each network's class names its fixture, written by
/// <c>tests/peer/make_fixture.py --model NAME</c>, and its module.
/// </summary>
/// <typeparam name="TNetwork">The network's torch module.</typeparam>
public abstract class EngineNetworkPyTorchTests<TNetwork> : IDisposable
    where TNetwork : nn.Module<Tensor, Tensor>
{
    private const double Tolerance = 1e-5;
    private readonly PyTorchFixture _fixture;

    /// <param name="fixtureFile">The fixture in <c>Fixtures/pytorch</c>.</param>
    protected EngineNetworkPyTorchTests(string fixtureFile) => _fixture = new(fixtureFile);

    /// <summary>Gets the state-dictionary keys, in PyTorch's order.</summary>
    protected abstract string[] Parameters { get; }

    /// <summary>Gets the architecture's name, as weights files and the classifier give it.</summary>
    protected abstract string Architecture { get; }

    /// <summary>Gets the number of trainable parameters the network documents.</summary>
    protected abstract int ParameterCount { get; }

    /// <summary>Builds the network with the initial weights of <paramref name="seed"/>.</summary>
    protected abstract TNetwork Create(long seed);

    [Fact]
    public void Constructor_SameSeedAsPyTorch_GivesPyTorchsInitialWeights()
    {
        using var model = Create(1234);

        _fixture.AssertMatches(model, Parameters, "init.", 0);
    }

    [Fact]
    public void Constructor_Seeded_LeavesTheGlobalGeneratorAlone()
    {
        manual_seed(99);
        using var expected = rand(3);
        manual_seed(99);

        using var model = Create(5);
        using var actual = rand(3);

        actual.eq(expected).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Parameters_Count_IsTheNetworks()
    {
        using var model = Create(0);

        model.parameters().Sum(p => p.numel()).Should().Be(ParameterCount);
        model.state_dict().Keys.Should().Equal(Parameters);
    }

    [Theory]
    [InlineData(new long[] { 2, 28, 28 })]
    [InlineData(new long[] { 2, 3, 28, 28 })]
    [InlineData(new long[] { 2, 1, 32, 32 })]
    public void Forward_WrongShape_ThrowsNamingTheExpectedShape(long[] shape)
    {
        using var model = Create(0);
        using var input = zeros(shape);

        var act = () => model.call(input);

        // DigitNetwork checks the input for all three networks, naming the one that was called.
        act.Should().Throw<ArgumentException>().WithMessage($"{model.GetType().Name} expects images of shape [N, 1, 28, 28]; got [*");
    }

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
    public void EngineLogits_PyTorchWeights_GivePyTorchsLogits()
    {
        using var model = ModelWithInitialWeights();
        var classifier = DigitClassifier.FromModel(model);
        var images = _fixture["batch0.images"].data<float>().ToArray();
        var expected = _fixture["batch0.logits"].data<float>().ToArray();
        var logits = new float[classifier.ClassCount];
        var passes = NetworkPasses.For(classifier.Weights.Description);

        passes.Should().BeOfType<LayerPasses>($"{Architecture} runs on the engine's generic layers");
        classifier.Architecture.Should().Be(Architecture);
        for (var n = 0; n < images.Length / 784; n++)
        {
            passes.Logits(classifier.Weights.View, images.AsSpan(n * 784, 784), logits);
            for (var j = 0; j < logits.Length; j++)
            {
                Math.Abs(logits[j] - expected[(n * 10) + j]).Should().BeLessThan((float)Tolerance, $"image {n}, logit {j}");
            }
        }
    }

    [Fact]
    public void EngineStep_PyTorchWeights_GivesPyTorchsLossAndGradients()
    {
        using var model = ModelWithInitialWeights();
        using var optimizer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu }).CreateOptimizer(model);
        using var scope = NewDisposeScope();

        ManagedTraining.TryComputeGradients(model, optimizer, _fixture["batch0.images"], _fixture["batch0.labels"], out var loss).Should().BeTrue();

        Math.Abs(loss - _fixture["batch0.loss"].item<float>()).Should().BeLessThan(Tolerance);
        _fixture.AssertMatches(model, Parameters, "grad0.", Tolerance, gradients: true);
    }

    [Fact]
    public void TrainerStep_OneAdamStep_GivesPyTorchsWeights()
    {
        const double learningRate = 0.001;
        using var model = ModelWithInitialWeights();
        var trainer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, LearningRate = learningRate });
        using var optimizer = trainer.CreateOptimizer(model);

        using (var scope = NewDisposeScope())
        {
            ManagedTraining.Applies(model, _fixture["batch0.images"], _fixture["batch0.labels"]).Should().BeTrue("the step under test is the engine's");
            var loss = Trainer.Step(model, optimizer, _fixture["batch0.images"], _fixture["batch0.labels"]);
            Math.Abs(loss - _fixture["batch0.loss"].item<float>()).Should().BeLessThan(Tolerance);
        }

        // Adam's first step moves a weight by lr * g / (|g| + 1e-8): for gradients near 1e-8 (LeNet's fc1 has some) a
        // rounding difference of 1e-9 in g, well inside the gradient tolerance, moves the step by a few percent
        // of lr. So weights are compared to 1e-5 where |g| >= 1e-7 and only bounded by the step size elsewhere.
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var name in Parameters)
        {
            using var scope = NewDisposeScope();
            var difference = parameters[name].detach().sub(_fixture["step1." + name]).abs();
            var sensitive = _fixture["grad0." + name].abs().lt(1e-7);
            difference.masked_fill(sensitive, 0).max().item<float>().Should().BeLessThanOrEqualTo((float)Tolerance, name);
            difference.max().item<float>().Should().BeLessThanOrEqualTo((float)(2 * learningRate), name);
        }
    }

    public void Dispose()
    {
        _fixture.Dispose();
        GC.SuppressFinalize(this);
    }

    private TNetwork ModelWithInitialWeights() => _fixture.WithInitialWeights(Create(0), Parameters);
}
