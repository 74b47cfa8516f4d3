using System.Collections.Concurrent;
using System.Globalization;
using MnistCnn.Core.Data;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Inference;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// The library used from many threads at once: a classifier shared by 16 threads while a training run is
/// under way, and training runs asking for different torch thread counts started together, again and again.
/// </summary>
/// <remarks>
/// libtorch gives each native thread the process's count when the thread first runs torch work, by reading the
/// global count and then writing it back, not atomically. A thread doing that while another run's lease is in
/// force can write that run's count back after the lease has ended. The runs here therefore take torch's count
/// (<c>get_num_threads</c>) on their own thread before the barrier; without that, the process's count after a
/// round was one of the leased counts in two of three tries (docs/reliability.md, "Many threads at once").
/// </remarks>
[Trait("Category", "Reliability")]
[Collection(TorchGlobalState.Name)]
public sealed class ConcurrencyTests(ITestOutputHelper output)
{
    private const int PredictingThreads = 16;
    private const int BatchThreads = 2;
    private const int Images = 2_000;
    private const int Rounds = 4;

    private static readonly TrainerOptions Cpu = new() { Device = TrainingDevice.Cpu, Epochs = 3, Seed = 5, Threads = 1 };

    [Fact]
    public async Task PredictAndFit_SixteenThreadsPredictingWhileATrainingRuns_NeitherDisturbsTheOther()
    {
        var classifier = DigitClassifier.Pretrained();
        var pixels = RealMnistImages.Test.Pixels.AsMemory(0, Images * 784);
        var expected = Enumerable.Range(0, Images).Select(i => classifier.Predict(pixels.Span.Slice(i * 784, 784))).ToArray();
        // Long enough (3 x 60 steps) that the predictions overlap it even where a training step takes a millisecond.
        using var train = LearnableDigits.Make(960, seed: 1);
        var loaderOptions = new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true };
        using var alone = new ConvNet(seed: 5);
        var aloneHistory = new Trainer(Cpu).Fit(alone, new DigitDataLoader(train, loaderOptions));

        // The training starts first; the predicting threads are released once it is under way.
        using var trainingStarted = new ManualResetEventSlim();
        var trainingRunning = 1;
        using var together = new ConvNet(seed: 5);
        var training = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    var options = Cpu with { Callbacks = [new AtFitStart(trainingStarted.Set)] };
                    return new Trainer(options).Fit(together, new DigitDataLoader(train, loaderOptions));
                }
                finally
                {
                    trainingStarted.Set();
                    Volatile.Write(ref trainingRunning, 0);
                }
            },
            TaskCreationOptions.LongRunning);

        var mismatches = 0;
        var predictions = 0;
        var duringTraining = 0;
        void Count(bool same)
        {
            Interlocked.Increment(ref predictions);
            if (!same)
            {
                Interlocked.Increment(ref mismatches);
            }

            if (Volatile.Read(ref trainingRunning) == 1)
            {
                Interlocked.Increment(ref duringTraining);
            }
        }

        // 14 threads call Predict image by image, each from another starting point; 2 call PredictBatch
        // (itself parallel) over all the images. Every answer must equal the one-thread answer exactly.
        var threads = Enumerable.Range(0, PredictingThreads).Select(t => new Thread(() =>
        {
            trainingStarted.Wait();
            for (var round = 0; round < Rounds; round++)
            {
                if (t < BatchThreads)
                {
                    var batch = classifier.PredictBatch(pixels, Images);
                    for (var i = 0; i < Images; i++)
                    {
                        Count(batch[i].Equals(expected[i]));
                    }

                    continue;
                }

                for (var k = 0; k < Images; k++)
                {
                    var i = (k + (t * 131)) % Images;
                    Count(classifier.Predict(pixels.Span.Slice(i * 784, 784)).Equals(expected[i]));
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var togetherHistory = await training;

        ReliabilityReport.Record(
            "Concurrency: a shared DigitClassifier on 16 threads while a training runs (ConcurrencyTests)",
            [
                $"predicting threads: {PredictingThreads} ({PredictingThreads - BatchThreads} Predict, {BatchThreads} PredictBatch); predictions: {predictions.ToString(CultureInfo.InvariantCulture)}, made while the training ran: {duringTraining.ToString(CultureInfo.InvariantCulture)}",
                $"answers different from one thread's: {mismatches.ToString(CultureInfo.InvariantCulture)}",
                $"training run beside them: weights {(Weights.Identical(alone, together) ? "identical" : "DIFFERENT")} to the same run alone, epoch losses {(SameLosses(aloneHistory, togetherHistory) ? "identical" : "DIFFERENT")}",
            ],
            output);
        predictions.Should().Be(PredictingThreads * Rounds * Images);
        mismatches.Should().Be(0);
        duringTraining.Should().BePositive("the predictions must overlap the training for the test to mean anything");
        Weights.Identical(alone, together).Should().BeTrue("predictions running beside a training must not change its weights");
        SameLosses(aloneHistory, togetherHistory).Should().BeTrue();
    }

    [Fact]
    public async Task Fit_ManyRunsWithAlternatingThreadCountsStartedTogether_EachGetsItsCountAndTheProcessKeepsItsOwn()
    {
        using var train = LearnableDigits.Make(32, seed: 1);
        var before = TorchThreadCount.OnANewThread();
        var seen = new ConcurrentBag<(int Asked, int Seen)>();
        const int RoundsOfRuns = 4;
        const int RunsPerRound = 6;
        var afterRounds = new List<int>();
        for (var round = 0; round < RoundsOfRuns; round++)
        {
            using var start = new Barrier(RunsPerRound);
            var runs = Enumerable.Range(0, RunsPerRound).Select(r => Task.Factory.StartNew(
                () =>
                {
                    var threads = 1 + ((r + round) % 2);

                    // Every run's thread takes torch's count before any lease (see the class remarks).
                    _ = get_num_threads();
                    start.SignalAndWait();
                    using var model = new ConvNet(seed: r);
                    var options = Cpu with { Epochs = 1, Threads = threads, Callbacks = [new AtEpochEnd(() => seen.Add((threads, get_num_threads())))] };
                    new Trainer(options).Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16 }));
                },
                TaskCreationOptions.LongRunning)).ToArray();
            await Task.WhenAll(runs);
            afterRounds.Add(TorchThreadCount.OnANewThread());
        }

        var wrong = seen.Count(s => s.Asked != s.Seen);
        ReliabilityReport.Record(
            "Concurrency: training runs asking for 1 and 2 torch threads started together (ConcurrencyTests)",
            [
                $"runs: {seen.Count.ToString(CultureInfo.InvariantCulture)} ({RoundsOfRuns} rounds of {RunsPerRound} at once); runs that trained with another count than they asked for: {wrong.ToString(CultureInfo.InvariantCulture)}",
                $"process thread count (read on a new thread) before: {before.ToString(CultureInfo.InvariantCulture)}; after each round: {string.Join(' ', afterRounds)}",
            ],
            output);
        seen.Should().HaveCount(RoundsOfRuns * RunsPerRound);
        wrong.Should().Be(0);
        afterRounds.Should().OnlyContain(n => n == before, "every lease cycle gives the process its own count back");
    }

    private static bool SameLosses(TrainingHistory a, TrainingHistory b) =>
        a.Epochs.Select(e => e.TrainLossMean).SequenceEqual(b.Epochs.Select(e => e.TrainLossMean));

    private sealed class AtFitStart(Action action) : TrainingCallback
    {
        public override void OnFitStart(TrainingContext context) => action();
    }

    private sealed class AtEpochEnd(Action action) : TrainingCallback
    {
        public override void OnEpochEnd(TrainingContext context) => action();
    }
}
