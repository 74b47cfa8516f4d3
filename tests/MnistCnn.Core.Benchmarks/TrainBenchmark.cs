using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using TorchSharp;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// The case study end to end through the public API, as a user writes it: MNIST loaded with
/// <see cref="MnistDataset.Load"/>, batches of 64 in order, <c>new ConvNet(seed)</c>, a <see cref="Trainer"/>
/// with Adam 0.01 for 5 epochs, validation over the test set once per epoch; or, with <c>best</c>,
/// <see cref="TrainingRecipe.Best"/> as <c>./build.sh train --preset best</c> runs it (its one-cycle schedule spread
/// over the epochs asked for). Writes the same JSON fields as tests/peer/casestudy.py and tests/peer/best.py so
/// <see cref="BenchReport"/> can put them side by side.
/// </summary>
internal static class TrainBenchmark
{
    private const int BatchSize = 64;

    public static int Run(string folder, int seed, int epochs, int threads, string? jsonPath, bool best = false)
    {
        var load = Stopwatch.StartNew();
        using var train = MnistDataset.Load(folder, MnistSplit.Train);
        using var test = MnistDataset.Load(folder, MnistSplit.Test);
        var recipe = TrainingRecipe.Best with { Epochs = epochs };
        var trainLoader = new DigitDataLoader(train, best ? recipe.CreateLoaderOptions() : new DigitDataLoaderOptions { BatchSize = BatchSize });
        var testLoader = new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = BatchSize });
        var loadSeconds = load.Elapsed.TotalSeconds;

        using TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> model = best ? recipe.CreateModel(seed) : new ConvNet(seed);
        var trainer = new Trainer((best ? recipe.CreateTrainerOptions(seed) : new TrainerOptions { Epochs = epochs, Seed = seed }) with
        {
            Threads = threads,
            Device = TrainingDevice.Cpu,
        });
        // When the first training batch is done, measured from process start.
        double? firstStepSeconds = null;
        var firstStep = new SynchronousProgress<TrainingProgress>(p =>
        {
            if (firstStepSeconds is null && p.Phase == TrainingPhase.TrainingBatch)
            {
                using var process = Process.GetCurrentProcess();
                firstStepSeconds = (DateTime.Now - process.StartTime).TotalSeconds;
            }
        });
        var history = trainer.Fit(model, trainLoader, valLoader: testLoader, progress: firstStep);
        var peakRssMib = PeakResidentMib();

        foreach (var e in history.Epochs)
        {
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"Epoch: {e.Epoch} Loss: {e.TrainLossMean:F6} Accuracy: {e.ValidationAccuracy:F2} (train {e.TrainDuration.TotalSeconds:F2} s, validate {e.ValidationDuration.TotalSeconds:F2} s)"));
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Peak RSS: {peakRssMib:F0} MiB; first training step done {firstStepSeconds:F2} s after process start; {torch.get_num_threads()} threads"));

        if (jsonPath is not null)
        {
            var report = new Dictionary<string, object?>
            {
                ["mode"] = best ? "mnistcnn-best-preset" : "mnistcnn",
                ["seed"] = seed,
                ["epochs"] = epochs,
                ["threads"] = torch.get_num_threads(),
                ["batch_size"] = BatchSize,
                ["learning_rate"] = trainer.Options.LearningRate,
                ["dotnet"] = Environment.Version.ToString(),
                ["load_seconds"] = loadSeconds,
                ["seconds_to_first_step"] = firstStepSeconds,
                ["train_seconds"] = history.Epochs.Select(e => e.TrainDuration.TotalSeconds).ToArray(),
                ["validate_seconds"] = history.Epochs.Select(e => e.ValidationDuration.TotalSeconds).ToArray(),
                ["train_loss"] = history.Epochs.Select(e => e.TrainLossMean).ToArray(),
                ["test_accuracy"] = history.Epochs.Select(e => e.ValidationAccuracy).ToArray(),
                ["peak_rss_mib"] = peakRssMib,
            };
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(report, BenchReport.JsonOptions) + "\n");
        }

        return 0;
    }

    /// <summary>The process's peak resident set (VmHWM) in MiB, as ru_maxrss reports it to the peer.</summary>
    internal static double PeakResidentMib()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                var kib = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                return kib / 1024.0;
            }
        }

        return double.NaN;
    }
}
