using System.Diagnostics;
using System.Globalization;
using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Inference;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// The managed classifier alone (no torch), for quick A/B runs of two builds one after the other: the median
/// time of one image on this thread and PredictBatch's images per second over the test images, on the given
/// threads and on 1. Uses the public API only, so the same benchmark runs against an older MnistCnn.Core.dll.
/// </summary>
internal static class PredictBenchmark
{
    public static int Run(string folder, string modelPath, int threads, int rounds)
    {
        var images = IdxFile.ReadImages(Path.Combine(folder, "t10k-images-idx3-ubyte"));
        var classifier = DigitClassifier.Load(modelPath);
        const int singles = 2000;
        var times = new double[singles];
        for (var i = 0; i < 300; i++)
        {
            classifier.Predict(images.Pixels.AsSpan(i * 784, 784));
        }

        var single = new List<double>();
        var batch = new List<double>();
        var batchOne = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < singles; i++)
            {
                var start = Stopwatch.GetTimestamp();
                classifier.Predict(images.Pixels.AsSpan(i * 784, 784));
                times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            single.Add(Median(times));
            var begin = Stopwatch.GetTimestamp();
            classifier.PredictBatch(images.Pixels, images.Count, threads);
            batch.Add(images.Count / Stopwatch.GetElapsedTime(begin).TotalSeconds);
            begin = Stopwatch.GetTimestamp();
            classifier.PredictBatch(images.Pixels, images.Count, 1);
            batchOne.Add(images.Count / Stopwatch.GetElapsedTime(begin).TotalSeconds);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{classifier.Architecture}: single {Median([.. single]):F1} us, batch {Median([.. batch]):N0} images/s ({threads} threads), {Median([.. batchOne]):N0} images/s (1 thread); medians of {rounds} rounds"));
        return 0;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
