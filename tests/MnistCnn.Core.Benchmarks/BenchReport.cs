using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// Puts the JSON reports of one <c>./build.sh bench</c> run side by side: PyTorch faithful and PyTorch
/// preloaded (with the kernels the kernel check chose) and MnistCnn.Core; prints the table, the ratios
/// ours/PyTorch and the goals, and writes the same as one JSON file. With the inference figures of the same
/// run (ours: the managed <c>DigitClassifier</c> and TorchSharp; the peer: PyTorch), adds their rows.
/// </summary>
internal static class BenchReport
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>A figure for the JSON summary: null where a side did not measure it (NaN or infinite ratio).</summary>
    private static JsonValue? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static readonly (string Key, string Label, string Unit)[] Metrics =
    [
        ("train_seconds_median", "training time per epoch (median)", "s"),
        ("validate_seconds_median", "validation per pass, 10k images (median)", "s"),
        ("seconds_to_first_step", "process start to first step done", "s"),
        ("final_accuracy", "test accuracy after the last epoch", "%"),
        ("peak_rss_mib", "peak resident memory", "MiB"),
    ];

    /// <param name="columns">(name, JSON file) pairs; the last one is ours.</param>
    /// <param name="outPath">Where the summary JSON goes.</param>
    /// <param name="context">Free text recorded with the summary (machine load, command).</param>
    /// <param name="inferenceJson">Our inference figures (InferenceBenchmark's JSON), or null.</param>
    /// <param name="inferencePeerJson">PyTorch's inference figures (tests/peer/inference_bench.py), or null.</param>
    public static int Run(IReadOnlyList<(string Name, string Path)> columns, string outPath, string context, string? inferenceJson = null, string? inferencePeerJson = null)
    {
        var runs = columns.Where(c => File.Exists(c.Path)).Select(c => (c.Name, Values: Summarise(c.Path))).ToList();
        if (runs.Count < 2 || runs[^1].Name != columns[^1].Name)
        {
            Console.Error.WriteLine("report: missing result files: " + string.Join(", ", columns.Where(c => !File.Exists(c.Path)).Select(c => c.Path)));
            return 1;
        }

        var ours = runs[^1];
        var peers = runs.Take(runs.Count - 1).ToList();
        const int LabelWidth = 42;
        const int ColumnWidth = 13;
        Console.WriteLine();
        Console.WriteLine(context);
        Console.Write($"{"",-LabelWidth}");
        foreach (var run in runs)
        {
            Console.Write($"{run.Name,ColumnWidth}");
        }

        foreach (var peer in peers)
        {
            Console.Write($"{"ours/" + peer.Name,ColumnWidth + 4}");
        }

        Console.WriteLine();
        var ratios = new JsonObject();
        foreach (var (key, label, unit) in Metrics)
        {
            Console.Write($"{label + " (" + unit + ")",-LabelWidth}");
            foreach (var run in runs)
            {
                Console.Write($"{Format(run.Values[key]),ColumnWidth}");
            }

            var row = new JsonObject();
            foreach (var peer in peers)
            {
                var ratio = ours.Values[key] / peer.Values[key];
                row[peer.Name] = Number(ratio);
                Console.Write($"{Format(ratio) + "x",ColumnWidth + 4}");
            }

            ratios[key] = row;
            Console.WriteLine();
        }

        Console.WriteLine();
        var goals = new JsonObject();
        void Goal(string name, bool met, string detail)
        {
            goals[name] = met;
            Console.WriteLine($"  [{(met ? "met" : "NOT met")}] {name}: {detail}");
        }

        Console.WriteLine("Goals (from this run's ratios, against PyTorch's fastest correct kernels):");
        void RatioGoal(string peerName, string key, double limit, string what)
        {
            if (peers.FirstOrDefault(p => p.Name == peerName) is { Name: not null } peer)
            {
                var r = ours.Values[key] / peer.Values[key];
                Goal($"{what} <= {Format(limit)}x {peerName}", r <= limit, Format(r) + "x");
            }
        }

        RatioGoal("preloaded", "train_seconds_median", 0.25, "training epoch");
        RatioGoal("faithful", "train_seconds_median", 0.17, "training epoch");
        RatioGoal("faithful", "validate_seconds_median", 0.25, "validation of 10k images");
        RatioGoal("faithful", "seconds_to_first_step", 0.5, "process start to first step");
        RatioGoal("faithful", "peak_rss_mib", 0.6, "peak resident memory");
        RatioGoal("pytorch-best-preset", "train_seconds_median", 0.5, "best-preset training epoch");

        var inference = Inference(inferenceJson, inferencePeerJson, Goal);
        var summary = new JsonObject
        {
            ["context"] = context,
            ["inference"] = inference,
            ["columns"] = new JsonObject(runs.Select(r => new KeyValuePair<string, JsonNode?>(
                r.Name, new JsonObject(r.Values.Select(v => new KeyValuePair<string, JsonNode?>(v.Key, Number(v.Value))))))),
            ["ratios_ours_over"] = ratios,
            ["goals"] = goals,
            ["sources"] = new JsonArray(runs.Select(r => (JsonNode?)JsonValue.Create(columns.First(c => c.Name == r.Name).Path)).ToArray()),
        };
        File.WriteAllText(outPath, summary.ToJsonString(JsonOptions) + "\n");
        Console.WriteLine($"Written: {outPath}");
        return 0;
    }

    // Prediction: single-image latency and batch throughput of the managed classifier, TorchSharp and PyTorch,
    // all from this run; the ratios are ours over theirs in time (for throughput: time per image).
    private static JsonObject? Inference(string? oursPath, string? peerPath, Action<string, bool, string> goal)
    {
        if (oursPath is null || peerPath is null || !File.Exists(oursPath) || !File.Exists(peerPath))
        {
            if (oursPath is not null || peerPath is not null)
            {
                Console.WriteLine($"Inference: result files missing ({oursPath}, {peerPath}); no inference rows in this run.");
            }

            return null;
        }

        using var oursDoc = JsonDocument.Parse(File.ReadAllBytes(oursPath));
        using var peerDoc = JsonDocument.Parse(File.ReadAllBytes(peerPath));
        var ours = oursDoc.RootElement;
        var peer = peerDoc.RootElement;
        double Ours(string key) => ours.GetProperty(key).GetDouble();
        var images = ours.GetProperty("images").GetInt32();
        var lenet = ours.TryGetProperty("architecture", out var architecture) && architecture.GetString() == "LeNet";
        var rows = new (string Name, double SingleUs, double PerSecond, int Correct)[]
        {
            (peer.GetProperty("name").GetString() ?? "PyTorch", peer.GetProperty("single_median_us").GetDouble(), peer.GetProperty("batch_images_per_second").GetDouble(), peer.GetProperty("test_correct").GetInt32()),
            ($"TorchSharp {(lenet ? "LeNet" : "ConvNet")}.forward", Ours("torchsharp_single_median_us"), Ours("torchsharp_batch_images_per_second"), ours.GetProperty("torchsharp_test_correct").GetInt32()),
            ("MnistCnn.Core DigitClassifier", Ours("managed_single_median_us"), Ours("managed_batch_images_per_second"), ours.GetProperty("managed_test_correct").GetInt32()),
        };
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Inference ({ours.GetProperty("model").GetString()}, {images} MNIST test images; single image on 1 thread, batch on {ours.GetProperty("threads").GetInt32()} threads):"));
        Console.WriteLine($"{"",-32}{"single image (us)",20}{"batch (images/s)",20}{"accuracy (%)",16}");
        foreach (var row in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.Name,-32}{row.SingleUs,20:F1}{row.PerSecond,20:N0}{100.0 * row.Correct / images,16:F2}"));
        }

        var managed = rows[2];
        var ratios = new JsonObject();
        foreach (var other in rows.Take(2))
        {
            var single = managed.SingleUs / other.SingleUs;
            var batch = other.PerSecond / managed.PerSecond;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ours/{other.Name}: single image {Format(single)}x the time, batch {Format(batch)}x the time per image"));
            ratios[other.Name] = new JsonObject { ["single_image_time"] = single, ["batch_time_per_image"] = batch };
        }

        // The goals per network: LeNet does about 70 times the case study's arithmetic per image.
        var (singleGoal, batchGoal) = lenet ? (60.0, 15_000.0) : (50.0, 50_000.0);
        goal(string.Create(CultureInfo.InvariantCulture, $"single image <= {singleGoal:F0} us"), managed.SingleUs <= singleGoal, string.Create(CultureInfo.InvariantCulture, $"{managed.SingleUs:F1} us"));
        goal(string.Create(CultureInfo.InvariantCulture, $"batch >= {batchGoal:N0} images/s"), managed.PerSecond >= batchGoal, string.Create(CultureInfo.InvariantCulture, $"{managed.PerSecond:N0} images/s"));
        return new JsonObject
        {
            ["rows"] = new JsonObject(rows.Select(r => new KeyValuePair<string, JsonNode?>(r.Name, new JsonObject
            {
                ["single_median_us"] = r.SingleUs,
                ["batch_images_per_second"] = r.PerSecond,
                ["accuracy"] = 100.0 * r.Correct / images,
            }))),
            ["ratios_ours_over"] = ratios,
            ["sources"] = new JsonArray(JsonValue.Create(peerPath), JsonValue.Create(oursPath)),
        };
    }

    private static Dictionary<string, double> Summarise(string path)
    {
        // Python's json writes NaN for a diverged loss (the oneDNN run), which is not JSON.
        var text = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(path), @"-?\bNaN\b|-?\bInfinity\b", "null");
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        double[] Series(string name) => root.GetProperty(name).EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : double.NaN).ToArray();
        double Number(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
        return new Dictionary<string, double>
        {
            ["train_seconds_median"] = Median(Series("train_seconds")),
            ["validate_seconds_median"] = Median(Series("validate_seconds")),
            ["seconds_to_first_step"] = Number("seconds_to_first_step"),
            ["final_accuracy"] = Series("test_accuracy")[^1],
            ["peak_rss_mib"] = Number("peak_rss_mib"),
        };
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static string Format(double value) =>
        value.ToString(Math.Abs(value) >= 100 ? "F0" : "F3", CultureInfo.InvariantCulture);
}
