using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// Puts the JSON reports of one <c>./build.sh bench</c> run side by side: PyTorch faithful and PyTorch
/// preloaded (with the kernels the kernel check chose) and MnistCnn.Core; prints the table, the ratios
/// ours/PyTorch and the goals, and writes the same as one JSON file.
/// </summary>
internal static class BenchReport
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

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
    public static int Run(IReadOnlyList<(string Name, string Path)> columns, string outPath, string context)
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
                row[peer.Name] = ratio;
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

        var summary = new JsonObject
        {
            ["context"] = context,
            ["columns"] = new JsonObject(runs.Select(r => new KeyValuePair<string, JsonNode?>(
                r.Name, new JsonObject(r.Values.Select(v => new KeyValuePair<string, JsonNode?>(v.Key, v.Value)))))),
            ["ratios_ours_over"] = ratios,
            ["goals"] = goals,
            ["sources"] = new JsonArray(runs.Select(r => (JsonNode?)JsonValue.Create(columns.First(c => c.Name == r.Name).Path)).ToArray()),
        };
        File.WriteAllText(outPath, summary.ToJsonString(JsonOptions) + "\n");
        Console.WriteLine($"Written: {outPath}");
        return 0;
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
