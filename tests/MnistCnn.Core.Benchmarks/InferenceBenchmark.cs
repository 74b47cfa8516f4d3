using MnistCnn.Core.Data.Idx;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using MnistCnn.Core.Data;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using static TorchSharp.torch;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// Inference speed and memory, side by side in one process run: the managed <see cref="DigitClassifier"/>,
/// TorchSharp's forward of the same network (<see cref="ConvNet"/> or <see cref="LeNet"/>, eval, no_grad) with the same weights, and PyTorch's figures
/// from tests/peer/inference_bench.py (run just before by ./build.sh bench inference).
/// </summary>
internal static class InferenceBenchmark
{
    private const int Singles = 3000;
    // Single images are timed after a warm-up long enough for tiered compilation to have replaced the first, quick
    // code with optimized code (its call counting waits for 100 ms without new methods, then compiles in the
    // background): 300 calls took 5-15 ms, and the case study's first 3,000 timed calls ran at about twice the
    // steady time. A service meets the steady figure within a second of starting.
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1.5);
    private const int Runs = 7;
    private const int TorchBatch = 1000;

    public static int Run(string folder, string modelPath, int threads, string? peerJson, string? markdownOut, string? jsonOut = null)
    {
        var images = IdxFile.ReadImages(Path.Combine(folder, "t10k-images-idx3-ubyte"));
        var labels = IdxFile.ReadLabels(Path.Combine(folder, "t10k-labels-idx1-ubyte"));
        var loadBefore = LoadAverage();

        // Managed: load, then everything 10,000 predictions allocate.
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var classifier = DigitClassifier.Load(modelPath);
        var loadBytes = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var predictions = classifier.PredictBatch(images.Pixels, images.Count, threads);
        var firstBatchBytes = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore - loadBytes;
        var managedCorrect = Enumerable.Range(0, images.Count).Count(i => predictions[i].Digit == labels[i]);

        // Single image, this thread only.
        WarmUpFor(i => classifier.Predict(images.Pixels.AsSpan(i % Singles * 784, 784)));

        var times = new double[Singles];
        var threadBytesBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Singles; i++)
        {
            var start = Stopwatch.GetTimestamp();
            classifier.Predict(images.Pixels.AsSpan(i * 784, 784));
            times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        var bytesPerSingle = (double)(GC.GetAllocatedBytesForCurrentThread() - threadBytesBefore) / Singles;
        var managedSingle = Median(times);

        var rates = new double[Runs];
        for (var r = 0; r < Runs; r++)
        {
            var start = Stopwatch.GetTimestamp();
            classifier.PredictBatch(images.Pixels, images.Count, threads);
            rates[r] = images.Count / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        var managedRate = Median(rates);
        for (var r = 0; r < Runs; r++)
        {
            var start = Stopwatch.GetTimestamp();
            classifier.PredictBatch(images.Pixels, images.Count, maxDegreeOfParallelism: 1);
            rates[r] = images.Count / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        var managedRateOneThread = Median(rates);

        // TorchSharp, same weights, same input scaling.
        var scaled = new float[images.Pixels.Length];
        PixelScaler.Scale(images.Pixels, scaled, normalization: null);
        using nn.Module<Tensor, Tensor> model = classifier.Architecture == "LeNet" ? new LeNet() : new ConvNet();
        ModelWeights.Load(model, modelPath);
        model.eval();
        var savedThreads = get_num_threads();
        double torchSingle, torchRate;
        int torchCorrect = 0;
        using (no_grad())
        {
            set_num_threads(1);
            var singles = Enumerable.Range(0, Singles).Select(i => tensor(scaled.AsSpan(i * 784, 784).ToArray(), [1, 1, 28, 28])).ToArray();
            WarmUpFor(i => model.forward(singles[i % Singles]).Dispose());

            for (var i = 0; i < Singles; i++)
            {
                var start = Stopwatch.GetTimestamp();
                model.forward(singles[i]).Dispose();
                times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            torchSingle = Median(times);
            foreach (var t in singles)
            {
                t.Dispose();
            }

            set_num_threads(threads);
            var batches = Enumerable.Range(0, images.Count / TorchBatch)
                .Select(b => tensor(scaled.AsSpan(b * TorchBatch * 784, TorchBatch * 784).ToArray(), [TorchBatch, 1, 28, 28])).ToArray();
            for (var b = 0; b < batches.Length; b++)
            {
                using var logits = model.forward(batches[b]);
                using var digits = logits.argmax(1);
                var predicted = digits.data<long>().ToArray();
                torchCorrect += predicted.Where((d, i) => d == labels[(b * TorchBatch) + i]).Count();
            }

            for (var r = 0; r < Runs; r++)
            {
                var start = Stopwatch.GetTimestamp();
                foreach (var batch in batches)
                {
                    model.forward(batch).Dispose();
                }

                rates[r] = images.Count / Stopwatch.GetElapsedTime(start).TotalSeconds;
            }

            torchRate = Median(rates);
            foreach (var t in batches)
            {
                t.Dispose();
            }

            set_num_threads(savedThreads);
        }

        var lines = new List<string>
        {
            $"Inference of {classifier.Architecture} ({Path.GetFileName(modelPath)}), {images.Count} MNIST test images, one run:",
            $"CPU: {CpuModel()}; {Environment.ProcessorCount} cores; ISA: {Isa()}",
            $"load average (1/5/15 min): {loadBefore} at the start, {LoadAverage()} at the end",
            string.Empty,
            $"| | single image, 1 thread (median of {Singles}) | batch of {images.Count}, {threads} threads (median of {Runs}) | test accuracy |",
            "| --- | --- | --- | --- |",
            Row("MnistCnn.Core `DigitClassifier` (managed)", managedSingle, managedRate, $"Predict; PredictBatch (chunks of 64)", managedCorrect, images.Count),
            Row($"TorchSharp `{classifier.Architecture}.forward` (eval, no_grad)", torchSingle, torchRate, $"[1,1,28,28]; batches of {TorchBatch}", torchCorrect, images.Count),
        };
        if (peerJson is not null && File.Exists(peerJson))
        {
            using var peer = JsonDocument.Parse(File.ReadAllBytes(peerJson));
            var root = peer.RootElement;
            lines.Add(Row($"{root.GetProperty("name").GetString()} `model(x)` (no_grad)", root.GetProperty("single_median_us").GetDouble(),
                root.GetProperty("batch_images_per_second").GetDouble(), $"[1,1,28,28]; batches of {root.GetProperty("batch_size").GetInt32()}",
                root.GetProperty("test_correct").GetInt32(), images.Count));
        }

        lines.Add(string.Empty);
        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"Managed memory: loading the classifier allocated {loadBytes:N0} B; PredictBatch of {images.Count} images allocated {firstBatchBytes:N0} B in all ({(double)firstBatchBytes / images.Count:F0} B per image, the first call included); Predict allocates {bytesPerSingle:F0} B per image (its result)."));
        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"Managed PredictBatch on 1 thread (maxDegreeOfParallelism: 1): {managedRateOneThread:N0} images/s (median of {Runs})."));
        // LeNet does about 70 times the case study's arithmetic per image: its own goals.
        var (singleGoal, batchGoal) = classifier.Architecture == "LeNet" ? (60, 15_000) : (50, 50_000);
        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"Goals: single image <= {singleGoal} us (managed: {managedSingle:F1} us), >= {batchGoal:N0} images/s on 2 cores (managed: {managedRate:N0} images/s with {threads} threads)."));
        foreach (var line in lines)
        {
            Console.WriteLine(line);
        }

        if (markdownOut is not null)
        {
            File.WriteAllLines(markdownOut, lines);
        }

        // The same figures for the bench's summary table (BenchReport reads them beside the training columns).
        if (jsonOut is not null)
        {
            var figures = new System.Text.Json.Nodes.JsonObject
            {
                ["model"] = Path.GetFileName(modelPath),
                ["architecture"] = classifier.Architecture,
                ["images"] = images.Count,
                ["threads"] = threads,
                ["managed_single_median_us"] = managedSingle,
                ["managed_batch_images_per_second"] = managedRate,
                ["managed_test_correct"] = managedCorrect,
                ["managed_bytes_per_predict"] = bytesPerSingle,
                ["torchsharp_single_median_us"] = torchSingle,
                ["torchsharp_batch_images_per_second"] = torchRate,
                ["torchsharp_test_correct"] = torchCorrect,
            };
            File.WriteAllText(jsonOut, figures.ToJsonString(BenchReport.JsonOptions) + "\n");
        }

        return 0;
    }

    private static string Row(string name, double singleUs, double rate, string how, int correct, int count) =>
        string.Create(CultureInfo.InvariantCulture, $"| {name} | {singleUs:F1} us | {rate:N0} images/s | {100.0 * correct / count:F2}% ({how}) |");

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string CpuModel() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();

    private static string Isa() =>
        $"Vector256 {(Vector256.IsHardwareAccelerated ? "accelerated" : "emulated")}, AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported}, AVX-512F {Avx512F.IsSupported}";

    // Calls the action (with 0, 1, 2, ...) for WarmUp, pausing briefly every 500 calls so the background compiler runs.
    private static void WarmUpFor(Action<int> call)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; clock.Elapsed < WarmUp; i++)
        {
            call(i);
            if (i % 500 == 499)
            {
                Thread.Sleep(20);
            }
        }
    }
}
