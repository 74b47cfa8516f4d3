using System.Diagnostics;
using System.Globalization;
using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// Where a training step's time goes: first <c>steps</c> batches through <see cref="Trainer.Step"/> (for ConvNet on
/// the CPU, the fused managed path: the batch, the engine's gradients with the checks around them, the optimizer's
/// update) after 1.5 s of warm-up; then torch's own path with batch creation, forward, loss, zero_grad, backward and
/// the optimizer step timed separately (after a warm-up); then validation passes. Per-phase medians and totals in
/// microseconds, with the CPU model and the load average.
/// </summary>
internal static class StepProfile
{
    /// <summary>Seconds of managed steps before the measured ones.</summary>
    private const double WarmupSeconds = 1.5;

    public static int Run(string folder, int threads, int steps)
    {
        set_num_threads(threads);
        Console.WriteLine($"CPU: {CpuModel()}; load average {File.ReadAllText("/proc/loadavg").Trim()}");
        using var train = MnistDataset.Load(folder, MnistSplit.Train);
        using var test = MnistDataset.Load(folder, MnistSplit.Test);
        // The managed path first: torch's own steps below leave OpenMP threads behind that would share the two cores.
        FusedSteps(train, steps);

        using var model = new ConvNet(0);
        var trainer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu });
        using var optimizer = trainer.CreateOptimizer(model);
        string[] phases = ["batch", "forward", "loss", "zero_grad", "backward", "step", "loss read"];
        var times = phases.ToDictionary(p => p, _ => new List<double>());
        var loader = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 64 });
        var clock = new Stopwatch();
        var warmup = 50;
        var n = 0;
        var enumerator = loader.GetBatches(0).GetEnumerator();
        var total = Stopwatch.StartNew();
        while (n < steps + warmup)
        {
            using var scope = NewDisposeScope();
            clock.Restart();
            if (!enumerator.MoveNext())
            {
                enumerator = loader.GetBatches(0).GetEnumerator();
                enumerator.MoveNext();
            }

            using var batch = enumerator.Current;
            var t = Lap(clock);
            var logits = model.call(batch.Images);
            var tf = Lap(clock);
            var loss = nn.functional.cross_entropy(logits, batch.Labels);
            var tl = Lap(clock);
            optimizer.zero_grad();
            var tz = Lap(clock);
            loss.backward();
            var tb = Lap(clock);
            optimizer.step();
            var ts = Lap(clock);
            _ = loss.item<float>();
            var tr = Lap(clock);
            if (++n == warmup)
            {
                total.Restart();
            }

            if (n > warmup)
            {
                double[] laps = [t, tf, tl, tz, tb, ts, tr];
                for (var i = 0; i < phases.Length; i++)
                {
                    times[phases[i]].Add(laps[i]);
                }
            }
        }

        var perStep = total.Elapsed.TotalMilliseconds / steps;
        Console.WriteLine($"{steps} steps, {get_num_threads()} threads: {perStep.ToString("F2", CultureInfo.InvariantCulture)} ms per step (wall, incl. scope disposal)");
        foreach (var phase in phases)
        {
            var sorted = times[phase].Order().ToArray();
            Console.WriteLine($"  {phase,-10} median {sorted[sorted.Length / 2],8:F0} us   mean {sorted.Average(),8:F0} us");
        }

        var loaderTest = new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = 64 });
        foreach (var size in (int[])[0, 250, 500, 1000, 0, 250, 500, 1000])
        {
            var v = Stopwatch.StartNew();
            var accuracy = size == 0 ? Validator.Accuracy(model, loaderTest) : Validator.Evaluate(model, loaderTest, size).Accuracy;
            Console.WriteLine($"  validation pass, batches of {(size == 0 ? "64 (loader)" : size)}: {v.Elapsed.TotalMilliseconds:F0} ms (accuracy {accuracy:F2})");
        }

        return 0;
    }

    /// <summary>
    /// Whole steps through <see cref="Trainer.Step"/>, which for ConvNet on the CPU takes the managed fused path
    /// (<c>ConvNetTrainingStep</c>); batch creation is timed apart, as above.
    /// </summary>
    private static void FusedSteps(DigitDataset train, int steps)
    {
        using var model = new ConvNet(0);
        var trainer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu });
        using var optimizer = trainer.CreateOptimizer(model);
        var loader = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 64 });
        var (batchTimes, stepTimes, gradientTimes, optimizerTimes) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var clock = new Stopwatch();
        var enumerator = loader.GetBatches(0).GetEnumerator();
        var total = Stopwatch.StartNew();

        // Warm up for WarmupSeconds, not a count of steps: .NET recompiles the code around the engine's kernels (the
        // checks, the optimizer, the batches) with full optimization only after it has run for a while (measured: 50
        // warm-up steps left the optimizer's median at 161 us, against 28-32 us inside a training run).
        var warmup = int.MaxValue;
        for (var n = 1; warmup == int.MaxValue || n <= steps + warmup; n++)
        {
            if (warmup == int.MaxValue && total.Elapsed.TotalSeconds >= WarmupSeconds)
            {
                warmup = n - 1;
                total.Restart();
            }

            using var scope = NewDisposeScope();
            clock.Restart();
            if (!enumerator.MoveNext())
            {
                enumerator = loader.GetBatches(0).GetEnumerator();
                enumerator.MoveNext();
            }

            using var batch = enumerator.Current;
            var tb = Lap(clock);
            // Even steps whole, odd steps in Trainer.Step's two halves: the engine's gradients, then the optimizer's update.
            var whole = n % 2 == 0;
            double ts = 0, tg = 0, to = 0;
            if (whole)
            {
                _ = Trainer.Step(model, optimizer, batch.Images, batch.Labels);
                ts = Lap(clock);
            }
            else
            {
                Engine.ManagedTraining.TryComputeGradients(model, optimizer, batch.Images, batch.Labels, out _);
                tg = Lap(clock);
                optimizer.step();
                to = Lap(clock);
            }

            if (n > warmup)
            {
                batchTimes.Add(tb);
                if (whole)
                {
                    stepTimes.Add(ts);
                }
                else
                {
                    gradientTimes.Add(tg);
                    optimizerTimes.Add(to);
                }
            }
        }

        var perStep = total.Elapsed.TotalMilliseconds / steps;
        Console.WriteLine($"{steps} steps through Trainer.Step (fused managed path for ConvNet on the CPU), {get_num_threads()} threads: {perStep.ToString("F2", CultureInfo.InvariantCulture)} ms per step (wall, incl. batch and scope disposal)");
        foreach (var (phase, list) in (ReadOnlySpan<(string, List<double>)>)[
            ("batch", batchTimes), ("Trainer.Step", stepTimes), ("  gradients", gradientTimes), ("  optimizer", optimizerTimes)])
        {
            var sorted = list.Order().ToArray();
            Console.WriteLine($"  {phase,-12} median {sorted[sorted.Length / 2],8:F0} us   mean {sorted.Average(),8:F0} us");
        }

        Console.WriteLine($"  load average {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";

    private static double Lap(Stopwatch clock)
    {
        var us = clock.Elapsed.TotalMicroseconds;
        clock.Restart();
        return us;
    }
}
