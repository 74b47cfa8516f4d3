using System.Diagnostics;
using System.Globalization;
using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Engine;
using MnistCnn.Core.Inference;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// Where one image's prediction goes, on this thread: the classifier's median single-image time, then the same images
/// again with <see cref="StepProfiler"/> on, each layer's parts (columns, product, epilogue) in microseconds per image,
/// and what is left outside them (scaling the pixels, the softmax, the scratch rent, the calls between layers).
/// </summary>
internal static class PredictProfile
{
    public static int Run(string folder, string modelPath, int rounds)
    {
        var images = IdxFile.ReadImages(Path.Combine(folder, "t10k-images-idx3-ubyte"));
        var classifier = DigitClassifier.Load(modelPath);
        var description = classifier.Weights.Description;
        Console.WriteLine($"{description.Name}; load average {File.ReadAllText("/proc/loadavg").Trim()}");
        const int singles = 2000;
        var times = new double[singles];
        for (var i = 0; i < 500; i++)
        {
            classifier.Predict(images.Pixels.AsSpan(i * 784, 784));
        }

        var medians = new List<double>();
        var means = new List<double>();
        var profiles = new List<Dictionary<(int Layer, StepPart Part), double>>(rounds * singles);
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < singles; i++)
            {
                var start = Stopwatch.GetTimestamp();
                classifier.Predict(images.Pixels.AsSpan(i * 784, 784));
                times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            medians.Add(Median(times));
            means.Add(times.Average());
            StepProfiler.Collect(reset: true);
            StepProfiler.Enabled = true;
            for (var i = 0; i < singles; i++)
            {
                // One image at a time, so that each part's median leaves out the images a busy machine preempted.
                classifier.Predict(images.Pixels.AsSpan(i * 784, 784));
                profiles.Add(StepProfiler.Collect(reset: true));
            }

            StepProfiler.Enabled = false;
        }

        var keys = profiles.SelectMany(p => p.Keys).Distinct().OrderBy(k => k.Layer).ThenBy(k => k.Part).ToList();
        var sum = 0.0;
        var median = Median([.. medians]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"single image: median {median:F1} us, mean {Median([.. means]):F1} us (medians of {rounds} rounds of {singles}); parts: medians over the images"));
        foreach (var key in keys)
        {
            var us = Median([.. profiles.Select(p => p.GetValueOrDefault(key) * 1e6)]);
            sum += us;
            var layer = description.Layers[key.Layer];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  layer {key.Layer,2} {layer.Kind,-9} {key.Part,-16} {us,7:F1} us"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  profiled parts {sum:F1} us; the rest of the median {median - sum:F1} us"));
        return 0;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
