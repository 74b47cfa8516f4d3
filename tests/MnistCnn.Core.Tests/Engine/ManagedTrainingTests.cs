using MnistCnn.Core.Engine;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Engine;

/// <summary>
/// The engine's training step (<see cref="ManagedTraining"/>) for both networks (the case study's kernels for
/// <see cref="ConvNet"/>, the generic layers for <see cref="LeNet"/> and <see cref="SpeedrunNet"/>) against torch's autograd through their
/// forward (itself checked against PyTorch in <see cref="PyTorchFixtureTests"/> and <see cref="Models.LeNetTests"/>),
/// on random weights and inputs, for odd batch sizes; its independence of the thread count; and when it is not taken.
/// </summary>
[Collection(TorchGlobalState.Name)]
public sealed class ManagedTrainingTests
{
    private const double Tolerance = 1e-5;
    private static readonly string[] Parameters = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "linear1.weight", "linear1.bias"];

    [Theory]
    [InlineData("ConvNet", 1)]
    [InlineData("ConvNet", 7)]
    [InlineData("ConvNet", 16)]
    [InlineData("ConvNet", 32)]
    [InlineData("ConvNet", 64)]
    [InlineData("LeNet", 1)]
    [InlineData("LeNet", 7)]
    [InlineData("LeNet", 64)]
    [InlineData("SpeedrunNet", 7)]
    [InlineData("SpeedrunNet", 64)]
    public void TryComputeGradients_RandomBatch_GivesAutogradsLossAndEveryGradient(string architecture, int batchSize) =>
        AssertAutogradsLossAndGradients(architecture, batchSize, labelSmoothing: 0);

    [Theory]
    [InlineData("ConvNet", 7, 0.1)]
    [InlineData("LeNet", 7, 0.1)]
    [InlineData("LeNet", 64, 0.3)]
    [InlineData("SpeedrunNet", 16, 0.1)]
    public void TryComputeGradients_LabelSmoothing_GivesTheLossAndGradientsOfTorchsSmoothedCrossEntropy(string architecture, int batchSize, double smoothing) =>
        AssertAutogradsLossAndGradients(architecture, batchSize, smoothing);

    [Fact]
    public void TryComputeGradients_SmoothedThenPlain_ReturnsToThePlainLoss()
    {
        using var model = new LeNet(seed: 3);
        using var optimizer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu }).CreateOptimizer(model);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(9, seed: 4);

        ManagedTraining.TryComputeGradients(model, optimizer, images, labels, out var plain).Should().BeTrue();
        ManagedTraining.TryComputeGradients(model, optimizer, images, labels, out var smoothed, labelSmoothing: 0.2).Should().BeTrue();

        // A smoothed target is spread over the classes, so the loss differs; the same call without smoothing repeats the plain loss.
        smoothed.Should().NotBe(plain);
        ManagedTraining.TryComputeGradients(model, optimizer, images, labels, out var again).Should().BeTrue();
        again.Should().Be(plain);
    }

    private static void AssertAutogradsLossAndGradients(string architecture, int batchSize, double labelSmoothing)
    {
        using var model = Network(architecture, seed: batchSize);
        using var optimizer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu }).CreateOptimizer(model);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(batchSize, seed: 100 + batchSize);
        var (expectedLoss, expected) = AutogradGradients(model, images, labels, labelSmoothing);

        ManagedTraining.TryComputeGradients(model, optimizer, images, labels, out var loss, labelSmoothing).Should().BeTrue();

        (Math.Abs(loss - expectedLoss) / Math.Max(1, Math.Abs(expectedLoss))).Should().BeLessThan(Tolerance, "loss");
        var actual = Gradients(model);
        actual.Keys.Should().Equal(expected.Keys);
        foreach (var name in expected.Keys)
        {
            using var reference = expected[name].abs().max();
            using var difference = actual[name].sub(expected[name]).abs().max();
            var scale = Math.Max(1e-3, reference.item<float>());
            (difference.item<float>() / scale).Should().BeLessThan(Tolerance, $"{name} (largest gradient {scale:G3})");
        }
    }

    [Theory]
    [InlineData("ConvNet")]
    [InlineData("LeNet")]
    [InlineData("SpeedrunNet")]
    public void TryComputeGradients_SameBatchOnOneAndTwoThreads_GivesBitIdenticalGradients(string architecture)
    {
        using var model = Network(architecture, seed: 5);
        using var optimizer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu }).CreateOptimizer(model);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(61, seed: 6);
        var threadsBefore = get_num_threads();
        try
        {
            set_num_threads(1);
            ManagedTraining.TryComputeGradients(model, optimizer, images, labels, out var lossOne).Should().BeTrue();
            var one = Gradients(model).ToDictionary(p => p.Key, p => p.Value.clone());
            set_num_threads(2);
            ManagedTraining.TryComputeGradients(model, optimizer, images, labels, out var lossTwo).Should().BeTrue();
            var two = Gradients(model);

            lossTwo.Should().Be(lossOne);
            foreach (var name in one.Keys)
            {
                two[name].allclose(one[name], rtol: 0, atol: 0).Should().BeTrue(name);
            }
        }
        finally
        {
            set_num_threads(threadsBefore);
        }
    }

    [Theory]
    [InlineData("ConvNet")]
    [InlineData("LeNet")]
    public void Fit_OneAndTwoThreads_GiveBitIdenticalWeights(string architecture)
    {
        using var train = LearnableDigits.Make(150, seed: 1);
        var loader = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 64, Shuffle = true });
        using var one = Network(architecture, seed: 8);
        using var two = Network(architecture, seed: 8);

        new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 2, Seed = 3, Threads = 1 }).Fit(one, loader);
        new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 2, Seed = 3, Threads = 2 }).Fit(two, loader);

        var weightsTwo = two.state_dict();
        foreach (var (name, tensor) in one.state_dict())
        {
            tensor.allclose(weightsTwo[name], rtol: 0, atol: 0).Should().BeTrue(name);
        }
    }

    [Fact]
    public void Resume_LeNetWithTheBestRecipe_EndsWithTheWeightsOfAnUninterruptedRun()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(96, seed: 1);
        using var test = LearnableDigits.Make(32, seed: 2);
        DigitDataLoader Loader() => new(train, new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true, Augmentation = new DigitAugmentation() });
        var options = new TrainerOptions
        {
            Device = TrainingDevice.Cpu,
            Epochs = 3,
            Seed = 7,
            Threads = 2,
            LearningRate = 0.001,
            LearningRateScheduler = LearningRateScheduler.Cosine(),
        };
        var checkpoint = folder.File("run.ckpt");
        using var uninterrupted = new LeNet(seed: 7);
        using (var scope = NewDisposeScope())
        {
            ManagedTraining.Applies(uninterrupted, zeros(2, 1, 28, 28), zeros(2, ScalarType.Int64)).Should().BeTrue("LeNet trains through the engine");
        }

        var full = new Trainer(options).Fit(uninterrupted, Loader(), new DigitDataLoader(test));

        // The same run, stopped after its first epoch, then resumed into a network with other initial weights.
        using (var interrupted = new LeNet(seed: 7))
        {
            new Trainer(options with { CheckpointPath = checkpoint, Callbacks = [new StopAfter(1)] }).Fit(interrupted, Loader(), new DigitDataLoader(test))
                .Epochs.Should().HaveCount(1);
        }

        using var resumed = new LeNet(seed: 99);
        var history = new Trainer(options).Resume(checkpoint, resumed, Loader(), new DigitDataLoader(test));

        Weights.AssertIdentical(uninterrupted, resumed);
        history.Epochs.Select(e => (e.LearningRate, e.TrainLossMean, e.ValidationLoss)).Should().Equal(full.Epochs.Select(e => (e.LearningRate, e.TrainLossMean, e.ValidationLoss)));
    }

    [Fact]
    public void Applies_CaseStudyBatch_IsTrue()
    {
        using var model = new ConvNet(seed: 1);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(3, seed: 1);

        ManagedTraining.Applies(model, images, labels).Should().BeTrue();
    }

    [Fact]
    public void Applies_EvaluationMode_IsFalse()
    {
        using var model = new ConvNet(seed: 1);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(3, seed: 1);

        model.eval();

        ManagedTraining.Applies(model, images, labels).Should().BeFalse();
    }

    [Fact]
    public void Applies_FrozenParameter_IsFalse()
    {
        using var model = new ConvNet(seed: 1);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(3, seed: 1);

        model.named_parameters().First(p => p.name == "conv1.weight").parameter.requires_grad = false;

        ManagedTraining.Applies(model, images, labels).Should().BeFalse();
    }

    [Fact]
    public void Applies_ForwardHook_IsFalse()
    {
        using var model = new ConvNet(seed: 1);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(3, seed: 1);

        model.register_forward_hook((module, input, output) => output);

        ManagedTraining.Applies(model, images, labels).Should().BeFalse();
    }

    [Fact]
    public void Applies_GradientOfAnotherShapeWithTheSameCount_IsFalse()
    {
        using var model = new ConvNet(seed: 1);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(3, seed: 1);
        var weight = model.named_parameters().First(p => p.name == "linear1.weight").parameter;

        weight.grad = zeros(weight.shape[1], weight.shape[0]);

        ManagedTraining.Applies(model, images, labels).Should().BeFalse();
    }

    [Theory]
    [InlineData(3, 1, 28, 27, 3)]
    [InlineData(3, 2, 28, 28, 3)]
    [InlineData(3, 1, 28, 28, 2)]
    public void Applies_ImagesOrLabelsOfAnotherShape_IsFalse(int count, int channels, int height, int width, int labelCount)
    {
        using var model = new ConvNet(seed: 1);
        using var scope = NewDisposeScope();

        ManagedTraining.Applies(model, zeros(count, channels, height, width), zeros(labelCount, ScalarType.Int64)).Should().BeFalse();
    }

    [Fact]
    public void Applies_Float64Images_IsFalse()
    {
        using var model = new ConvNet(seed: 1);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(3, seed: 1);

        ManagedTraining.Applies(model, images.to(ScalarType.Float64), labels).Should().BeFalse();
    }

    [Fact]
    public void Applies_ImagesRequiringGradients_IsFalse()
    {
        using var model = new ConvNet(seed: 1);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(3, seed: 1);

        images.requires_grad = true;

        ManagedTraining.Applies(model, images, labels).Should().BeFalse();
    }

    [Fact]
    public void Applies_NoGradMode_IsFalse()
    {
        using var model = new ConvNet(seed: 1);
        using var scope = NewDisposeScope();
        var (images, labels) = RandomBatch(3, seed: 1);

        using var noGrad = no_grad();

        ManagedTraining.Applies(model, images, labels).Should().BeFalse();
    }

    [Fact]
    public void TryComputeGradients_LabelOutsideTheClasses_Throws()
    {
        using var model = new ConvNet(seed: 1);
        using var optimizer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu }).CreateOptimizer(model);
        using var scope = NewDisposeScope();
        var (images, _) = RandomBatch(2, seed: 1);

        var act = () => ManagedTraining.TryComputeGradients(model, optimizer, images, tensor(new long[] { 3, 10 }), out _);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("labels");
    }

    private static (Tensor Images, Tensor Labels) RandomBatch(int count, int seed)
    {
        using var generator = new Generator().manual_seed(seed);
        return (rand([count, 1, DigitImage.Size, DigitImage.Size], generator: generator), randint(0, ConvNet.ClassCount, [count], generator: generator));
    }

    // torch's autograd through the network's forward, on a copy of the model, so the managed path's gradients are untouched.
    private static (double Loss, Dictionary<string, Tensor> Gradients) AutogradGradients(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels,
        double labelSmoothing)
    {
        using var copy = Network(model.GetType().Name, seed: 0);
        using (no_grad())
        {
            var source = model.state_dict();
            foreach (var (name, tensor) in copy.state_dict())
            {
                tensor.copy_(source[name]);
            }
        }

        var loss = nn.functional.cross_entropy(copy.call(images), labels, label_smoothing: labelSmoothing);
        loss.backward();
        return (loss.item<float>(), Gradients(copy).ToDictionary(p => p.Key, p => p.Value.clone()));
    }

    private static Dictionary<string, Tensor> Gradients(nn.Module<Tensor, Tensor> model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);

    private static nn.Module<Tensor, Tensor> Network(string architecture, long seed) =>
        architecture switch
        {
            "LeNet" => new LeNet(seed),
            "SpeedrunNet" => new SpeedrunNet(seed),
            _ => new ConvNet(seed),
        };

    private sealed class StopAfter(int epochs) : TrainingCallback
    {
        public override void OnEpochEnd(TrainingContext context)
        {
            if (context.History.Count == epochs)
            {
                context.RequestStop();
            }
        }
    }
}
