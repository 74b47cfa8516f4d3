using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using TorchSharp;

namespace MnistCnn.Core.Tests.Training;

[Collection(TorchGlobalState.Name)]
public sealed class AugmentedTrainingTests
{
    private static readonly TrainerOptions Cpu = new() { Device = TrainingDevice.Cpu };
    private static readonly DigitDataLoaderOptions Augmented = new() { BatchSize = 16, Shuffle = true, Augmentation = new DigitAugmentation() };

    [Fact]
    public void Fit_WithAugmentationSameSeedTwice_GivesIdenticalWeights()
    {
        using var train = LearnableDigits.Make(96, seed: 1);
        var options = Cpu with { Epochs = 2, Seed = 3 };

        using var first = new ConvNet(seed: 3);
        var a = new Trainer(options).Fit(first, new DigitDataLoader(train, Augmented));
        using var second = new ConvNet(seed: 3);
        var b = new Trainer(options).Fit(second, new DigitDataLoader(train, Augmented));
        using var unaugmented = new ConvNet(seed: 3);
        var c = new Trainer(options).Fit(unaugmented, new DigitDataLoader(train, Augmented with { Augmentation = null }));

        a.Epochs.Select(e => e.TrainLossMean).Should().Equal(b.Epochs.Select(e => e.TrainLossMean));
        AssertSameWeights(first, second);
        a.Epochs.Select(e => e.TrainLossMean).Should().NotEqual(c.Epochs.Select(e => e.TrainLossMean), "augmented batches are other images");
    }

    [Fact]
    public void Resume_WithAugmentation_EndsWithTheWeightsOfAnUninterruptedRun()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(96, seed: 1);
        using var test = LearnableDigits.Make(32, seed: 2);
        var options = Cpu with { Epochs = 3, Seed = 7 };
        var checkpoint = folder.File("run.ckpt");

        using var uninterrupted = new ConvNet(seed: 7);
        var full = new Trainer(options).Fit(uninterrupted, new DigitDataLoader(train, Augmented), new DigitDataLoader(test));

        using (var interrupted = new ConvNet(seed: 7))
        {
            new Trainer(options with { Epochs = 1, CheckpointPath = checkpoint }).Fit(interrupted, new DigitDataLoader(train, Augmented), new DigitDataLoader(test));
        }

        using var resumed = new ConvNet(seed: 99);
        var logger = new ListLogger();
        var history = new Trainer(options, logger).Resume(checkpoint, resumed, new DigitDataLoader(train, Augmented), new DigitDataLoader(test));

        AssertSameWeights(uninterrupted, resumed);
        history.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy, e.ValidationLoss)).Should().Equal(full.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy, e.ValidationLoss)));
        logger.Entries.Should().NotContain(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning, "the settings are the same");
    }

    [Fact]
    public void Resume_WithOtherAugmentation_LogsThatTheSettingsChanged()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(32, seed: 1);
        var checkpoint = folder.File("run.ckpt");
        using (var interrupted = new ConvNet(seed: 1))
        {
            new Trainer(Cpu with { Epochs = 1, CheckpointPath = checkpoint }).Fit(interrupted, new DigitDataLoader(train, Augmented));
        }

        using var resumed = new ConvNet(seed: 1);
        var logger = new ListLogger();
        new Trainer(Cpu with { Epochs = 2 }, logger).Resume(checkpoint, resumed, new DigitDataLoader(train, Augmented with { Augmentation = new DigitAugmentation { MaxShift = 1 } }));

        logger.Entries.Should().Contain(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("shift 1 px", StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluate_LoaderWithAugmentation_DoesNotAugment()
    {
        using var test = LearnableDigits.Make(48, seed: 4);
        using var model = new ConvNet(seed: 2);
        var strong = new DigitAugmentation { MaxShift = 6, MaxRotationDegrees = 45, MinScale = 0.6, MaxScale = 1.4 };

        var plain = Validator.Evaluate(model, new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = 16 }));
        var withAugmentation = Validator.Evaluate(model, new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = 16, Augmentation = strong }));
        var chunked = Validator.Evaluate(model, new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = 16, Augmentation = strong }), batchSize: 10);

        withAugmentation.Loss.Should().Be(plain.Loss);
        withAugmentation.ConfusionMatrix.Should().BeEquivalentTo(plain.ConfusionMatrix);
        chunked.Accuracy.Should().Be(plain.Accuracy);
    }

    private static void AssertSameWeights(torch.nn.Module a, torch.nn.Module b)
    {
        var other = b.state_dict();
        foreach (var (name, tensor) in a.state_dict())
        {
            tensor.allclose(other[name], rtol: 0, atol: 0).Should().BeTrue($"{name} should be identical");
        }
    }
}
