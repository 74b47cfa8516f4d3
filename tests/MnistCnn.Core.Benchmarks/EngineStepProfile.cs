using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Engine;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// The generic engine's training step (<see cref="LayerPasses"/>' <see cref="GradientStep"/>) alone, with no torch:
/// batches of 64 real training images through LeNet or SpeedrunNet from fixed random weights, timed per step
/// (median and mean wall time at the given thread count), then profiled with 1 thread: each layer's and pass's
/// share of the step. The optimizer step is not part of it (torch's Adam runs it in training).
/// </summary>
internal static class EngineStepProfile
{
    private const int BatchSize = 64;

    private static readonly string[] Flags = ["avx2", "fma", "avx512f"];

    public static int Run(string folder, string network, int threads, int steps)
    {
        var description = network switch
        {
            "lenet" => NetworkDescription.LeNet,
            "speedrun" => NetworkDescription.Speedrun,
            "convnet" => NetworkDescription.ConvNet,
            _ => throw new ArgumentException($"--network must be lenet, speedrun or convnet, not '{network}'.", nameof(network)),
        };
        Console.WriteLine($"CPU: {Cpu()}; load average {File.ReadAllText("/proc/loadavg").Trim()}");
        var idx = IdxFile.ReadImages(Path.Combine(folder, "train-images-idx3-ubyte"));
        var labelBytes = IdxFile.ReadLabels(Path.Combine(folder, "train-labels-idx1-ubyte"));
        var batches = Math.Min(64, idx.Count / BatchSize);
        var images = GC.AllocateArray<float>(batches * BatchSize * NetworkDescription.ImagePixels, pinned: true);
        var labels = GC.AllocateArray<long>(batches * BatchSize, pinned: true);
        for (var i = 0; i < images.Length; i++)
        {
            images[i] = ((idx.Pixels[i] / 255f) - 0.1307f) / 0.3081f;
        }

        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = labelBytes[i];
        }

        var random = new Random(0);
        var weights = NetworkWeights.Create(description, (span, p) =>
        {
            var bound = 1f / MathF.Sqrt(p.Length / Math.Max(1, description.Layers[p.Layer].Outputs));
            foreach (ref var v in span)
            {
                v = ((float)random.NextDouble() * 2f - 1f) * bound;
            }
        }, out _);
        var gradients = NetworkWeights.Create(description, (span, _) => span.Clear(), out _);
        var step = NetworkPasses.For(description).CreateGradientStep();

        var wall = Measure(step, weights, gradients, images, labels, batches, threads, steps);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{description.Name}, {threads} threads, {steps} steps of {BatchSize}: median {wall.Median:F3} ms, mean {wall.Mean:F3} ms per step; checksum {Checksum(gradients):R}"));

        // Shares with 1 thread: every part is then on one clock.
        StepProfiler.Enabled = true;
        StepProfiler.Collect(reset: true);
        var profiled = Measure(step, weights, gradients, images, labels, batches, 1, steps);
        StepProfiler.Enabled = false;
        var parts = StepProfiler.Collect(reset: true);
        var total = parts.Values.Sum();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"profile, 1 thread, {steps} steps: median {profiled.Median:F3} ms per step; parts cover {100 * total / (profiled.Sum / 1000):F1}% of the wall time"));
        foreach (var ((layer, part), seconds) in parts.OrderByDescending(p => p.Value))
        {
            var name = layer < 0 ? "step" : $"{layer,2} {description.Layers[layer]}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {100 * seconds / total,5:F1}%  {1e6 * seconds / steps,8:F1} us/step  {name,-26} {part}"));
        }

        Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private static (double Median, double Mean, double Sum) Measure(
        GradientStep step, NetworkWeights weights, NetworkWeights gradients, float[] images, long[] labels, int batches, int threads, int steps)
    {
        var times = new List<double>();
        for (var n = -10; n < steps; n++)
        {
            var b = (n + 10) % batches;
            var started = Stopwatch.GetTimestamp();
            // Both arrays are pinned.
            var x = Marshal.UnsafeAddrOfPinnedArrayElement(images, b * BatchSize * NetworkDescription.ImagePixels);
            var y = Marshal.UnsafeAddrOfPinnedArrayElement(labels, b * BatchSize);
            step.Run(weights.View, gradients.View, x, y, BatchSize, threads, labelSmoothing: 0);

            if (n == -1)
            {
                StepProfiler.Collect(reset: true);
            }

            if (n >= 0)
            {
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        times.Sort();
        return (times[times.Count / 2], times.Average(), times.Sum());
    }

    private static double Checksum(NetworkWeights gradients)
    {
        var sum = 0d;
        for (var p = 0; p < gradients.Description.Parameters.Count; p++)
        {
            foreach (var g in gradients[p])
            {
                sum += g;
            }
        }

        return sum;
    }

    private static string Cpu()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
        var isa = string.Join(' ', Flags.Where(f => flags.Contains($" {f}", StringComparison.Ordinal)));
        return $"{model}, ISA {isa}; {Environment.ProcessorCount} cores";
    }
}
