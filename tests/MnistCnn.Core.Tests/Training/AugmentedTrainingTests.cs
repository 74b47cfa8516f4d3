using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using TorchSharp;

namespace MnistCnn.Core.Tests.Training;

[Collection(TorchGlobalState.Name)]
public sealed class AugmentedTrainingTests
{
    private static readonly TrainerOptions Cpu = new() { Device = TrainingDevice.Cpu };

    // Every kind of augmentation at once: the affine defaults and Simard's elastic distortion.
    private static readonly DigitDataLoaderOptions Augmented = new() { BatchSize = 16, Shuffle = true, Augmentation = new DigitAugmentation { ElasticAlpha = 34 } };

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
        Weights.AssertIdentical(first, second);
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

        Weights.AssertIdentical(uninterrupted, resumed);
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
    public void Fit_WithAugmentationOnOneOrTwoThreads_GivesIdenticalWeights()
    {
        using var train = LearnableDigits.Make(64, seed: 1);
        var options = Cpu with { Epochs = 1, Seed = 4 };

        using var oneThread = new ConvNet(seed: 4);
        new Trainer(options with { Threads = 1 }).Fit(oneThread, new DigitDataLoader(train, Augmented));
        using var twoThreads = new ConvNet(seed: 4);
        new Trainer(options with { Threads = 2 }).Fit(twoThreads, new DigitDataLoader(train, Augmented));

        Weights.AssertIdentical(oneThread, twoThreads);
    }
}
