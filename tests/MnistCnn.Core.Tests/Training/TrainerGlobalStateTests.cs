using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Training;

/// <summary>Library calls leave torch's process-wide state (global generator, thread count) as they found it.</summary>
[Collection(TorchGlobalState.Name)]
public sealed class TrainerGlobalStateTests
{
    private static readonly TrainerOptions Cpu = new() { Device = TrainingDevice.Cpu };

    [Fact]
    public void ConvNet_Seeded_LeavesTheGlobalGeneratorAsItWas()
    {
        manual_seed(77);
        using var before = get_rng_state();

        using var model = new ConvNet(seed: 3);

        using var after = get_rng_state();
        after.allclose(before, rtol: 0, atol: 0).Should().BeTrue("a seeded network draws from a generator of its own");
    }

    [Fact]
    public void ConvNet_Unseeded_DrawsFromTheGlobalGeneratorAsPyTorchDoes()
    {
        manual_seed(1234);
        using var unseeded = new ConvNet();
        using var seeded = new ConvNet(seed: 1234);

        foreach (var (name, tensor) in unseeded.state_dict())
        {
            tensor.allclose(seeded.state_dict()[name], rtol: 0, atol: 0).Should().BeTrue($"{name}: manual_seed(s) then ConvNet() is ConvNet(s)");
        }
    }

    [Fact]
    public void FitEvaluateAndResume_LeaveTheGeneratorAndThreadCountAsTheyWere()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(64, seed: 1);
        using var test = LearnableDigits.Make(20, seed: 2);
        var threadsBefore = get_num_threads();
        var runThreads = threadsBefore == 1 ? 2 : 1;
        var seenDuringRun = new List<int>();
        var options = Cpu with
        {
            Epochs = 2,
            Seed = 4,
            Threads = runThreads,
            CheckpointPath = folder.File("run.ckpt"),
            Callbacks = [new EpochEndAction(() => seenDuringRun.Add(get_num_threads()))],
        };
        var loader = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true });
        manual_seed(99);
        using var generatorBefore = get_rng_state();

        using var model = new ConvNet(seed: 4);
        new Trainer(options with { Epochs = 1 }).Fit(model, loader, new DigitDataLoader(test));
        Validator.Evaluate(model, new DigitDataLoader(test));
        new Trainer(options).Resume(options.CheckpointPath!, model, loader, new DigitDataLoader(test));

        seenDuringRun.Should().Equal([runThreads, runThreads], "the run's thread count is in force while it trains");
        get_num_threads().Should().Be(threadsBefore);
        using var generatorAfter = get_rng_state();
        generatorAfter.allclose(generatorBefore, rtol: 0, atol: 0).Should().BeTrue("no call may seed or draw from torch's global generator");
    }

    [Fact]
    public async Task Fit_TwoRunsAtOnceOnTwoThreads_GiveTheWeightsOfRunsOneAfterAnother()
    {
        using var train = LearnableDigits.Make(192, seed: 1);
        using var test = LearnableDigits.Make(40, seed: 2);
        var shuffled = new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true };
        // One torch thread per run: two OpenMP teams spinning on the same two cores can slow each other down
        // a thousandfold, and the thread count does not change the weights this test compares.
        TrainingHistory Train(ConvNet model, long seed) =>
            new Trainer(Cpu with { Epochs = 2, Seed = seed, Threads = 1 }).Fit(model, new DigitDataLoader(train, shuffled), new DigitDataLoader(test));

        using var firstAlone = new ConvNet(seed: 1);
        var firstAloneHistory = Train(firstAlone, 1);
        using var secondAlone = new ConvNet(seed: 2);
        var secondAloneHistory = Train(secondAlone, 2);

        using var start = new Barrier(2);
        (ConvNet Model, TrainingHistory History) TrainOnItsOwnThread(long seed)
        {
            start.SignalAndWait();
            var model = new ConvNet(seed);
            return (model, Train(model, seed));
        }

        var first = Task.Factory.StartNew(() => TrainOnItsOwnThread(1), TaskCreationOptions.LongRunning);
        var second = Task.Factory.StartNew(() => TrainOnItsOwnThread(2), TaskCreationOptions.LongRunning);
        var results = await Task.WhenAll(first, second);
        using var firstTogether = results[0].Model;
        using var secondTogether = results[1].Model;

        Weights.AssertIdentical(firstAlone, firstTogether);
        Weights.AssertIdentical(secondAlone, secondTogether);
        results[0].History.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy))
            .Should().Equal(firstAloneHistory.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy)));
        results[1].History.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy))
            .Should().Equal(secondAloneHistory.Epochs.Select(e => (e.TrainLossMean, e.ValidationAccuracy)));
        AssertDifferentWeights(firstAlone, secondAlone);
    }

    [Fact]
    public async Task Fit_RunsAskingForDifferentThreadCounts_TakeTurnsAndRestoreTheCount()
    {
        using var train = LearnableDigits.Make(64, seed: 1);
        var threadsBefore = TorchThreadCount.OnANewThread();
        var seen = new System.Collections.Concurrent.ConcurrentBag<(int Asked, int Seen)>();
        using var bothReady = new Barrier(2);
        TrainingHistory Train(int threads)
        {
            // Each thread takes torch's count before either run leases one: libtorch's first-use copy of the count
            // is a read and a write that can otherwise put a leased count back after its lease ended.
            _ = get_num_threads();
            bothReady.SignalAndWait();
            using var model = new ConvNet(seed: 0);
            var options = Cpu with { Epochs = 2, Threads = threads, Callbacks = [new EpochEndAction(() => seen.Add((threads, get_num_threads())))] };
            return new Trainer(options).Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16 }));
        }

        var one = Task.Factory.StartNew(() => Train(1), TaskCreationOptions.LongRunning);
        var two = Task.Factory.StartNew(() => Train(2), TaskCreationOptions.LongRunning);
        await Task.WhenAll(one, two);

        seen.Should().HaveCount(4).And.OnlyContain(s => s.Asked == s.Seen, "each run trains with the count it asked for");
        TorchThreadCount.OnANewThread().Should().Be(threadsBefore, "the last run gives the process its count back");
    }

    private static void AssertDifferentWeights(nn.Module a, nn.Module b) =>
        a.state_dict()["linear1.weight"].allclose(b.state_dict()["linear1.weight"], rtol: 0, atol: 0).Should().BeFalse("the two runs must differ for the comparison to mean anything");

    private sealed class EpochEndAction(Action action) : TrainingCallback
    {
        public override void OnEpochEnd(TrainingContext context) => action();
    }
}
