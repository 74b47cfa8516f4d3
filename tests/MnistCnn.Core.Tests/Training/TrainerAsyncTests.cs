using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Training;

[Collection(TorchGlobalState.Name)]
public sealed class TrainerAsyncTests
{
    private static readonly TrainerOptions Cpu = new() { Device = TrainingDevice.Cpu };

    [Fact]
    public async Task FitAsync_SameRunAsFit_SameHistoryAndWeightsAndTrainsOffTheCallersThread()
    {
        using var train = LearnableDigits.Make(96, seed: 1);
        using var test = LearnableDigits.Make(20, seed: 2);
        var options = Cpu with { Epochs = 2, Seed = 3 };
        var loaderOptions = new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true };
        using var blocking = new ConvNet(seed: 3);
        var expected = new Trainer(options).Fit(blocking, new DigitDataLoader(train, loaderOptions), new DigitDataLoader(test));
        var callerThread = Environment.CurrentManagedThreadId;
        var trainingThreads = new HashSet<int>();

        using var model = new ConvNet(seed: 3);
        var history = await new Trainer(options).FitAsync(
            model,
            new DigitDataLoader(train, loaderOptions),
            new DigitDataLoader(test),
            new SynchronousProgress<TrainingProgress>(_ => trainingThreads.Add(Environment.CurrentManagedThreadId)));

        history.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy)).Should().Equal(expected.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy)));
        Weights.AssertIdentical(blocking, model);
        trainingThreads.Should().ContainSingle().Which.Should().NotBe(callerThread);
    }

    [Fact]
    public async Task FitAsync_CancelledBetweenBatches_EndsCanceledAtThatBatch()
    {
        using var train = LearnableDigits.Make(160);
        using var model = new ConvNet(seed: 0);
        using var cancellation = new CancellationTokenSource();
        var batches = 0;
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            if (p.Phase == TrainingPhase.TrainingBatch && ++batches == 4)
            {
                cancellation.Cancel();
            }
        });

        var act = () => new Trainer(Cpu with { Epochs = 3 }).FitAsync(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16 }), progress: progress, cancellationToken: cancellation.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        batches.Should().Be(4, "the token is checked before every batch");
    }

    [Fact]
    public void FitAsync_NullModel_ThrowsAtOnce()
    {
        using var train = LearnableDigits.Make(10);

        Action act = () => _ = new Trainer(Cpu).FitAsync(null!, new DigitDataLoader(train));

        act.Should().Throw<ArgumentNullException>().WithParameterName("model");
    }

    [Fact]
    public async Task FitEpochsAsync_WholeRun_YieldsEveryEpochAsFitReportsIt()
    {
        using var train = LearnableDigits.Make(96, seed: 1);
        using var test = LearnableDigits.Make(20, seed: 2);
        var options = Cpu with { Epochs = 3, Seed = 2 };
        using var blocking = new ConvNet(seed: 2);
        var expected = new Trainer(options).Fit(blocking, new DigitDataLoader(train), new DigitDataLoader(test));

        using var model = new ConvNet(seed: 2);
        var epochs = new List<EpochResult>();
        await foreach (var epoch in new Trainer(options).FitEpochsAsync(model, new DigitDataLoader(train), new DigitDataLoader(test)))
        {
            epochs.Add(epoch);
        }

        epochs.Select(e => e.Epoch).Should().Equal(1, 2, 3);
        epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy)).Should().Equal(expected.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy)));
        Weights.AssertIdentical(blocking, model);
    }

    [Fact]
    public async Task FitEpochsAsync_LeftAfterTheFirstEpoch_StopsTheRunBeforeReturning()
    {
        using var train = LearnableDigits.Make(96, seed: 1);
        using var model = new ConvNet(seed: 0);
        var epochsEnded = 0;
        var trainer = new Trainer(Cpu with { Epochs = 50, Callbacks = [new EpochEndAction(() => Interlocked.Increment(ref epochsEnded))] });

        await foreach (var epoch in trainer.FitEpochsAsync(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 8 })))
        {
            epoch.Epoch.Should().Be(1);
            break;
        }

        var endedWhenLeft = Volatile.Read(ref epochsEnded);
        await Task.Delay(300);
        Volatile.Read(ref epochsEnded).Should().Be(endedWhenLeft, "the run has stopped once the enumeration is left").And.BeLessThan(50);
    }

    [Fact]
    public async Task FitEpochsAsync_RunFails_ThrowsTheRunsException()
    {
        using var train = LearnableDigits.Make(20);
        using var model = new ConvNet(seed: 0);
        var trainer = new Trainer(Cpu with { Epochs = 3, LearningRateScheduler = LearningRateScheduler.Step(stepSize: 1, gamma: 1e40) });

        var epochs = new List<EpochResult>();
        var act = async () =>
        {
            await foreach (var epoch in trainer.FitEpochsAsync(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 10 })))
            {
                epochs.Add(epoch);
            }
        };

        await act.Should().ThrowAsync<TrainingDivergedException>().WithMessage("*epoch 2*");
        epochs.Should().ContainSingle();
    }

    [Fact]
    public async Task ResumeAsync_FromAnEpochCheckpoint_EndsWithTheWeightsOfAnUninterruptedRun()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(64, seed: 1);
        var loaderOptions = new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true };
        var options = Cpu with { Epochs = 2, Seed = 9 };
        var checkpoint = folder.File("run.ckpt");
        using var uninterrupted = new ConvNet(seed: 9);
        new Trainer(options).Fit(uninterrupted, new DigitDataLoader(train, loaderOptions));
        using (var interrupted = new ConvNet(seed: 9))
        {
            await new Trainer(options with { Epochs = 1, CheckpointPath = checkpoint }).FitAsync(interrupted, new DigitDataLoader(train, loaderOptions));
        }

        using var resumed = new ConvNet(seed: 1);
        var history = await new Trainer(options).ResumeAsync(checkpoint, resumed, new DigitDataLoader(train, loaderOptions));

        history.Epochs.Should().HaveCount(2);
        Weights.AssertIdentical(uninterrupted, resumed);
    }

    [Fact]
    public void Fit_StaticCallOfTheDesignCard_TrainsWithTheDefaultOptions()
    {
        using var train = LearnableDigits.Make(64, seed: 1);
        using var test = LearnableDigits.Make(20, seed: 2);
        var trainLoader = new DigitDataLoader(train);
        var valLoader = new DigitDataLoader(test);
        using var model = new ConvNet(seed: 6);
        using var viaInstance = new ConvNet(seed: 6);
        var trainer = new Trainer(new TrainerOptions());

        var history = Trainer.Fit(model, trainLoader, valLoader);
        var instanceHistory = trainer.Fit(viaInstance, trainLoader, valLoader);

        history.Epochs.Should().HaveCount(new TrainerOptions().Epochs);
        history.Epochs.Select(e => e.TrainLossMean).Should().Equal(instanceHistory.Epochs.Select(e => e.TrainLossMean));
        Weights.AssertIdentical(model, viaInstance);
    }

    private sealed class EpochEndAction(Action action) : TrainingCallback
    {
        public override void OnEpochEnd(TrainingContext context) => action();
    }
}
