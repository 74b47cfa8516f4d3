using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Training;

[Collection(TorchGlobalState.Name)]
public sealed class TrainerTests
{
    private static readonly TrainerOptions Cpu = new() { Device = TrainingDevice.Cpu };

    [Fact]
    public void Fit_TinyLearnableSet_LossFallsAndAccuracyRises()
    {
        using var train = LearnableDigits.Make(640, seed: 1);
        using var test = LearnableDigits.Make(100, seed: 2);
        using var model = new ConvNet(seed: 0);

        // The case study's rate (0.01) needs a few hundred steps to settle; this set gives the net 140.
        var trainer = new Trainer(Cpu with { Epochs = 7, Seed = 0, LearningRate = 0.003 });

        var history = trainer.Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 32, Shuffle = true }), new DigitDataLoader(test));

        history.Epochs.Should().HaveCount(7);
        history.Device.Should().Be("cpu");
        history.Epochs[^1].TrainLossMean.Should().BeLessThan(history.Epochs[0].TrainLossMean / 2);
        history.Epochs[^1].ValidationAccuracy.Should().BeGreaterThan(90);
        history.Epochs.Select(e => e.Epoch).Should().Equal(1, 2, 3, 4, 5, 6, 7);
        history.Epochs.Should().OnlyContain(e => e.ImagesPerSecond > 0 && e.LearningRate == 0.003 && e.ValidationLoss > 0);
    }

    [Fact]
    public void Fit_SameSeedTwice_GivesIdenticalWeightsAndNumbers()
    {
        using var train = LearnableDigits.Make(200, seed: 1);
        var options = Cpu with { Epochs = 2, Seed = 11 };
        var loaderOptions = new DigitDataLoaderOptions { BatchSize = 32, Shuffle = true };

        using var first = new ConvNet(seed: 11);
        var a = new Trainer(options).Fit(first, new DigitDataLoader(train, loaderOptions));
        using var second = new ConvNet(seed: 11);
        var b = new Trainer(options).Fit(second, new DigitDataLoader(train, loaderOptions));

        a.Epochs.Select(e => e.TrainLossMean).Should().Equal(b.Epochs.Select(e => e.TrainLossMean));
        Weights.AssertIdentical(first, second);
    }

    [Fact]
    public void Fit_CancelledDuringAnEpoch_ThrowsAndStopsAtThatBatch()
    {
        using var train = LearnableDigits.Make(200);
        using var model = new ConvNet(seed: 0);
        using var cancellation = new CancellationTokenSource();
        var batches = 0;
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            if (p.Phase == TrainingPhase.TrainingBatch && ++batches == 3)
            {
                cancellation.Cancel();
            }
        });

        var act = () => new Trainer(Cpu).Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 10 }), null, progress, cancellation.Token);

        act.Should().Throw<OperationCanceledException>();
        batches.Should().Be(3);
    }

    [Fact]
    public void Fit_LearningRateThatDiverges_ThrowsNamingEpochAndBatch()
    {
        using var train = LearnableDigits.Make(100);
        using var model = new ConvNet(seed: 0);

        var act = () => new Trainer(Cpu with { LearningRate = 1e36 }).Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 10 }));

        var thrown = act.Should().Throw<TrainingDivergedException>().WithMessage("*epoch 1, batch *").Which;
        thrown.Epoch.Should().Be(1);
        thrown.Batch.Should().BeGreaterThan(1);
        double.IsFinite(thrown.Loss).Should().BeFalse();
    }

    [Fact]
    public void Fit_ReportsProgressPerBatchAndPerEpoch()
    {
        using var train = LearnableDigits.Make(50);
        using var test = LearnableDigits.Make(20);
        using var model = new ConvNet(seed: 0);
        var reports = new List<TrainingProgress>();

        new Trainer(Cpu with { Epochs = 2 }).Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 20 }), new DigitDataLoader(test), new SynchronousProgress<TrainingProgress>(reports.Add));

        reports.Select(r => (r.Phase, r.Epoch, r.Batch)).Should().Equal(
            (TrainingPhase.TrainingBatch, 1, 1), (TrainingPhase.TrainingBatch, 1, 2), (TrainingPhase.TrainingBatch, 1, 3),
            (TrainingPhase.Validating, 1, 3), (TrainingPhase.EpochCompleted, 1, 3),
            (TrainingPhase.TrainingBatch, 2, 1), (TrainingPhase.TrainingBatch, 2, 2), (TrainingPhase.TrainingBatch, 2, 3),
            (TrainingPhase.Validating, 2, 3), (TrainingPhase.EpochCompleted, 2, 3));
        reports.Where(r => r.Phase == TrainingPhase.EpochCompleted).Should().OnlyContain(r => r.Result != null && r.EpochCount == 2 && r.BatchCount == 3);
    }

    [Fact]
    public void Fit_StepScheduler_SetsEachEpochsRate()
    {
        using var train = LearnableDigits.Make(40);
        using var model = new ConvNet(seed: 0);

        var history = new Trainer(Cpu with { Epochs = 3, LearningRateScheduler = LearningRateScheduler.Step(stepSize: 1, gamma: 0.5) })
            .Fit(model, new DigitDataLoader(train));

        history.Epochs.Select(e => e.LearningRate).Should().BeEquivalentTo(
            [0.01, 0.005, 0.0025], o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
    }

    [Fact]
    public void Fit_EarlyStoppingWithoutImprovement_StopsAfterPatience()
    {
        using var train = LearnableDigits.Make(40);
        using var test = LearnableDigits.Make(40, seed: 5);
        using var model = new ConvNet(seed: 0);

        // A vanishing learning rate cannot change a prediction, so accuracy never improves after epoch 1.
        var history = new Trainer(Cpu with { Epochs = 10, LearningRate = 1e-30, Callbacks = [new EarlyStopping(patience: 2)] })
            .Fit(model, new DigitDataLoader(train), new DigitDataLoader(test));

        history.Epochs.Should().HaveCount(3);
        history.StoppedEarly.Should().BeTrue();
    }

    [Fact]
    public void Fit_BestModelCheckpoint_KeepsAndRestoresTheBestEpoch()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(200, seed: 1);
        using var test = LearnableDigits.Make(60, seed: 2);
        using var model = new ConvNet(seed: 0);
        var best = new BestModelCheckpoint(folder.File("best.safetensors"));

        var history = new Trainer(Cpu with { Epochs = 3, Seed = 0, Callbacks = [best] })
            .Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16 }), new DigitDataLoader(test));

        var bestEpoch = history.Epochs.MaxBy(e => e.ValidationAccuracy)!;
        best.BestEpoch.Should().Be(history.Epochs.First(e => e.ValidationAccuracy == bestEpoch.ValidationAccuracy).Epoch);
        best.BestAccuracy.Should().Be(bestEpoch.ValidationAccuracy);
        MnistCnn.Core.Evaluation.Validator.Accuracy(model, new DigitDataLoader(test)).Should().Be(bestEpoch.ValidationAccuracy!.Value);
        using var reloaded = new ConvNet();
        ModelWeights.Load(reloaded, best.Path!);
        Weights.AssertIdentical(model, reloaded);
    }

    [Fact]
    public void Resume_FromEpochCheckpoint_EndsWithTheWeightsOfAnUninterruptedRun()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(160, seed: 1);
        using var test = LearnableDigits.Make(40, seed: 2);
        var loaderOptions = new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true };
        var options = Cpu with { Epochs = 3, Seed = 5 };
        var checkpoint = folder.File("run.ckpt");

        using var uninterrupted = new ConvNet(seed: 5);
        var full = new Trainer(options).Fit(uninterrupted, new DigitDataLoader(train, loaderOptions), new DigitDataLoader(test));

        using (var interrupted = new ConvNet(seed: 5))
        {
            new Trainer(options with { Epochs = 1, CheckpointPath = checkpoint }).Fit(interrupted, new DigitDataLoader(train, loaderOptions), new DigitDataLoader(test));
        }

        using var resumed = new ConvNet(seed: 99);
        var history = new Trainer(options).Resume(checkpoint, resumed, new DigitDataLoader(train, loaderOptions), new DigitDataLoader(test));

        Weights.AssertIdentical(uninterrupted, resumed);
        history.Epochs.Should().HaveCount(3);
        history.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy)).Should().Equal(full.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy)));
        Directory.GetFiles(folder.Path).Should().Equal(checkpoint);
    }

    [Fact]
    public void Resume_WithOtherSettings_TrainsAndLogsAWarning()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(20);
        var checkpoint = folder.File("run.ckpt");
        using var model = new ConvNet(seed: 0);
        new Trainer(Cpu with { Epochs = 1, CheckpointPath = checkpoint }).Fit(model, new DigitDataLoader(train));
        var logger = new ListLogger();

        var history = new Trainer(Cpu with { Epochs = 2, LearningRate = 0.001 }, logger).Resume(checkpoint, model, new DigitDataLoader(train));

        history.Epochs.Select(e => e.LearningRate).Should().Equal(0.01, 0.001);
        logger.Entries.Should().Contain(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("other settings", StringComparison.Ordinal));
    }

    [Fact]
    public void Resume_CheckpointOfAnotherArchitecture_ThrowsNamingTheFile()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(20);
        var checkpoint = folder.File("run.ckpt");
        using (var model = new ConvNet(seed: 0))
        {
            new Trainer(Cpu with { Epochs = 1, CheckpointPath = checkpoint }).Fit(model, new DigitDataLoader(train));
        }

        // Ten outputs, so that the architecture (not the output width, checked first) is what differs.
        using var other = new WideNet(classes: 10);
        var act = () => new Trainer(Cpu).Resume(checkpoint, other, new DigitDataLoader(train));

        act.Should().Throw<ModelFileException>().WithMessage($"{checkpoint}: was written from a model with parameters*");
    }

    [Fact]
    public void Resume_DamagedCheckpoint_ThrowsModelFileException()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(20);
        var checkpoint = folder.File("run.ckpt");
        using var model = new ConvNet(seed: 0);
        new Trainer(Cpu with { Epochs = 1, CheckpointPath = checkpoint }).Fit(model, new DigitDataLoader(train));
        var bytes = File.ReadAllBytes(checkpoint);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(checkpoint, bytes);

        var act = () => new Trainer(Cpu).Resume(checkpoint, model, new DigitDataLoader(train));

        act.Should().Throw<ModelFileException>().WithMessage("*damaged*");
    }

    [Fact]
    public void Fit_SeveralEpochs_DoesNotLeakTensors()
    {
        using var train = LearnableDigits.Make(128);
        using var test = LearnableDigits.Make(32);
        using var model = new ConvNet(seed: 0);
        var liveAfterEpoch = new List<long>();
        var callback = new EpochEndAction(() => liveAfterEpoch.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));

        new Trainer(Cpu with { Epochs = 5, Callbacks = [callback] })
            .Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true }), new DigitDataLoader(test));

        liveAfterEpoch.Should().HaveCount(5);
        liveAfterEpoch.Skip(1).Should().OnlyContain(count => count == liveAfterEpoch[0]);
    }

    [Fact]
    public void Fit_ModelWithWrongOutputWidth_ThrowsBeforeTraining()
    {
        using var train = LearnableDigits.Make(20);
        using var model = new WideNet();

        var act = () => new Trainer(Cpu).Fit(model, new DigitDataLoader(train));

        act.Should().Throw<ArgumentException>().WithParameterName("model").WithMessage("*[*, 12]*10 classes*");
    }

    [Fact]
    public void Fit_NullArguments_Throw()
    {
        using var train = LearnableDigits.Make(10);
        using var model = new ConvNet();

        ((Action)(() => new Trainer(Cpu).Fit(null!, new DigitDataLoader(train)))).Should().Throw<ArgumentNullException>().WithParameterName("model");
        ((Action)(() => new Trainer(Cpu).Fit(model, null!))).Should().Throw<ArgumentNullException>().WithParameterName("trainLoader");
    }

    [Fact]
    public void Options_OutOfRange_Throw()
    {
        ((Action)(() => _ = new TrainerOptions { Epochs = 0 })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Epochs");
        ((Action)(() => _ = new TrainerOptions { LearningRate = -0.1 })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("LearningRate");
        ((Action)(() => _ = new TrainerOptions { LearningRate = double.NaN })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("LearningRate");
        ((Action)(() => _ = new TrainerOptions { Beta1 = 1 })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Beta1");
        ((Action)(() => _ = new TrainerOptions { Threads = 0 })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Threads");
    }

    [Fact]
    public void Options_Defaults_AreTheCaseStudys()
    {
        var options = new TrainerOptions();

        (options.Epochs, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay, options.Device)
            .Should().Be((5, 0.01, 0.9, 0.999, 1e-8, 0.0, TrainingDevice.Auto));
    }

    [Fact]
    public void ResolveDevice_AutoWithoutCuda_PicksTheCpuAndSaysWhy()
    {
        var (device, reason) = Trainer.ResolveDevice(TrainingDevice.Auto);

        device.type.Should().Be(cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU);
        reason.Should().NotBeNullOrWhiteSpace();
    }

    private sealed class EpochEndAction(Action action) : TrainingCallback
    {
        public override void OnEpochEnd(TrainingContext context) => action();
    }
}
