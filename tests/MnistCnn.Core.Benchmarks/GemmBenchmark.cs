using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MnistCnn.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// The engine's matrix product (<see cref="Gemm"/>) at every vector width this machine accelerates, beside libtorch's
/// <c>torch.matmul</c> (through TorchSharp, in the same process, 1 thread), on the products LeNet's layers make
/// per image and per batch of 64. Each figure is GFLOP/s (2·m·n·k per call), the median of several rounds; the
/// rounds take every contender in turn, so a change in the machine's load hits them all alike.
/// </summary>
internal static class GemmBenchmark
{
    private static readonly Shape[] Shapes =
    [
        new("conv1 forward W·cols", Variant.Plain, 20, 576, 25),
        new("conv2 forward W·cols", Variant.Plain, 50, 64, 500),
        new("fc1 forward X·Wᵀ", Variant.TransposedB, 64, 500, 800),
        new("fc2 forward X·Wᵀ", Variant.TransposedB, 64, 10, 500),
        new("conv1 dW dY·colsᵀ", Variant.TransposedB, 20, 25, 576),
        new("conv2 dW dY·colsᵀ", Variant.TransposedB, 50, 500, 64),
        new("conv1 dX Wᵀ·dY", Variant.TransposedA, 25, 576, 20),
        new("conv2 dX Wᵀ·dY", Variant.TransposedA, 500, 64, 50),
        new("fc1 dW dYᵀ·X", Variant.TransposedA, 500, 800, 64),
        new("fc1 dX dY·W", Variant.Plain, 64, 800, 500),
    ];

    private static readonly int[] AllWidths = [512, 256, 128, 0];
    private static readonly string[] IsaFlags = ["avx2", "fma", "avx512f", "avx512bw"];

    private enum Variant
    {
        Plain,
        TransposedA,
        TransposedB,
    }

    public static int Run(int rounds, double secondsPerRound, string? jsonPath)
    {
        torch.set_num_threads(1);
        var widths = AllWidths.Where(w => w <= VectorWidth.HardwareBits).ToArray();
        var load = LoadAverage();
        Console.WriteLine($"CPU: {CpuModel()}; .NET widest accelerated vector: {VectorWidth.HardwareBits} bits; torch threads {torch.get_num_threads()}; load average {load}");
        Console.WriteLine($"GFLOP/s, median of {rounds} rounds of about {secondsPerRound.ToString("F2", CultureInfo.InvariantCulture)} s each; ratio = ours at the widest width / torch.matmul");
        var header = new StringBuilder($"{"product",-22}{"m x n x k",-16}");
        foreach (var bits in widths)
        {
            header.Append(CultureInfo.InvariantCulture, $"{(bits == 0 ? "scalar" : "ours " + bits),10}");
        }

        header.Append(CultureInfo.InvariantCulture, $"{"torch",10}{"ratio",8}");
        Console.WriteLine(header);
        var rows = new JsonArray();
        foreach (var shape in Shapes)
        {
            var figures = Measure(shape, widths, rounds, secondsPerRound);
            var line = new StringBuilder($"{shape.Name,-22}{shape.M + "x" + shape.N + "x" + shape.K,-16}");
            var row = new JsonObject { ["product"] = shape.Name, ["variant"] = shape.Variant.ToString(), ["m"] = shape.M, ["n"] = shape.N, ["k"] = shape.K };
            for (var w = 0; w < widths.Length; w++)
            {
                line.Append(CultureInfo.InvariantCulture, $"{figures[w],10:F1}");
                row[widths[w] == 0 ? "scalar_gflops" : $"ours{widths[w]}_gflops"] = Math.Round(figures[w], 2);
            }

            var ratio = figures[0] / figures[^1];
            line.Append(CultureInfo.InvariantCulture, $"{figures[^1],10:F1}{ratio,7:F2}x");
            row["torch_gflops"] = Math.Round(figures[^1], 2);
            row["ratio_widest_to_torch"] = Math.Round(ratio, 3);
            rows.Add(row);
            Console.WriteLine(line);
        }

        Console.WriteLine($"load average at the end {LoadAverage()}");
        if (jsonPath is not null)
        {
            var report = new JsonObject
            {
                ["cpu"] = CpuModel(),
                ["dotnet_vector_bits"] = VectorWidth.HardwareBits,
                ["torch_threads"] = torch.get_num_threads(),
                ["load_average_start"] = load,
                ["load_average_end"] = LoadAverage(),
                ["products"] = rows,
            };
            File.WriteAllText(jsonPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }

        return 0;
    }

    /// <summary>GFLOP/s of ours at each width, then of torch.matmul (the last entry).</summary>
    private static double[] Measure(Shape shape, int[] widths, int rounds, double secondsPerRound)
    {
        var random = new Random(1);
        var (aRows, aColumns) = shape.Variant == Variant.TransposedA ? (shape.K, shape.M) : (shape.M, shape.K);
        var (bRows, bColumns) = shape.Variant == Variant.TransposedB ? (shape.N, shape.K) : (shape.K, shape.N);
        var a = Random(random, aRows * aColumns);
        var b = Random(random, bRows * bColumns);
        var c = new float[shape.M * shape.N];
        using var aTensor = torch.tensor(a, [aRows, aColumns]);
        using var bTensor = torch.tensor(b, [bRows, bColumns]);
        using var left = shape.Variant == Variant.TransposedA ? aTensor.t() : aTensor.alias();
        using var right = shape.Variant == Variant.TransposedB ? bTensor.t() : bTensor.alias();

        var contenders = new List<Action>();
        foreach (var bits in widths)
        {
            contenders.Add(() =>
            {
                using (VectorWidth.Limit(bits))
                {
                    Ours(shape, a, aColumns, b, bColumns, c);
                }
            });
        }

        contenders.Add(() =>
        {
            using var product = torch.matmul(left, right);
        });

        var flops = 2.0 * shape.M * shape.N * shape.K;
        var calls = new int[contenders.Count];
        for (var i = 0; i < contenders.Count; i++)
        {
            calls[i] = CallsFor(contenders[i], secondsPerRound);
        }

        var samples = contenders.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < contenders.Count; i++)
            {
                var clock = Stopwatch.StartNew();
                for (var call = 0; call < calls[i]; call++)
                {
                    contenders[i]();
                }

                samples[i].Add(flops * calls[i] / clock.Elapsed.TotalSeconds / 1e9);
            }
        }

        return [.. samples.Select(Median)];
    }

    private static void Ours(Shape shape, float[] a, int lda, float[] b, int ldb, float[] c)
    {
        switch (shape.Variant)
        {
            case Variant.Plain:
                Gemm.Multiply(shape.M, shape.N, shape.K, a, lda, b, ldb, c, shape.N, accumulate: false);
                break;
            case Variant.TransposedA:
                Gemm.MultiplyTransposedA(shape.M, shape.N, shape.K, a, lda, b, ldb, c, shape.N, accumulate: false);
                break;
            default:
                Gemm.MultiplyTransposedB(shape.M, shape.N, shape.K, a, lda, b, ldb, c, shape.N, accumulate: false);
                break;
        }
    }

    /// <summary>Warms a contender up and returns how many calls take about <paramref name="seconds"/>.</summary>
    private static int CallsFor(Action contender, double seconds)
    {
        var calls = 1;
        while (true)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < calls; i++)
            {
                contender();
            }

            if (clock.Elapsed.TotalSeconds >= seconds / 4)
            {
                return Math.Max(1, (int)(calls * seconds / clock.Elapsed.TotalSeconds));
            }

            calls *= 2;
        }
    }

    private static float[] Random(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string CpuModel()
    {
        if (!File.Exists("/proc/cpuinfo"))
        {
            return "unknown";
        }

        var lines = File.ReadLines("/proc/cpuinfo").ToList();
        var model = lines.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var flags = (lines.FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(':', 2)[1] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var isa = IsaFlags.Where(flags.Contains).Select(f => f.ToUpperInvariant());
        return $"{model}, ISA: {string.Join(' ', isa)}";
    }

    private sealed record Shape(string Name, Variant Variant, int M, int N, int K);
}
