using MnistCnn.Core.Data.Idx;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using MnistCnn.Core.Data;
using TorchSharp;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// Times loading the MNIST training split (plain and gzip, with the SHA-256 a download check would add),
/// one epoch of batches (shuffled and in order) and the memory both splits take. Prints a table: median,
/// min and max of several runs after a warm-up, the managed heap collected before each run.
/// </summary>
internal static class DataBenchmark
{
    private const int Runs = 11;
    private const int EpochRuns = 7;
    private static readonly string[] FileNames = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    public static int Run(string folder)
    {
        folder = Path.GetFullPath(folder);
        var missing = FileNames.Where(n => !File.Exists(Path.Combine(folder, n))).ToArray();
        if (missing.Length > 0)
        {
            Console.Error.WriteLine($"Missing in {folder}: {string.Join(", ", missing)} (run ./build.sh data).");
            return 1;
        }

        Console.WriteLine($"MnistCnn.Core data benchmark: {folder}");
        Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} cores, torch threads {torch.get_num_threads()}, GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");
        Console.WriteLine();

        // Memory first, while the process's peak still reflects only the load.
        Memory(folder);
        Console.WriteLine();

        var trainFiles = new[] { Path.Combine(folder, FileNames[0]), Path.Combine(folder, FileNames[1]) };
        Row("step", "median", "min", "max");
        Time("load train, raw IDX (MnistDataset.Load)", () => MnistDataset.Load(folder, MnistSplit.Train).Dispose());
        Time("SHA-256 of the raw train files", () => Hash(trainFiles));
        Time("load + SHA-256, raw", () =>
        {
            Hash(trainFiles);
            MnistDataset.Load(folder, MnistSplit.Train).Dispose();
        });

        var gzFolder = Directory.CreateTempSubdirectory("mnistcnn-bench-").FullName;
        try
        {
            var compress = Stopwatch.StartNew();
            var images = IdxFile.ReadImages(trainFiles[0]);
            IdxFile.WriteImages(Path.Combine(gzFolder, FileNames[0] + ".gz"), images.Pixels, images.Count, images.Height, images.Width, gzip: true);
            IdxFile.WriteLabels(Path.Combine(gzFolder, FileNames[1] + ".gz"), IdxFile.ReadLabels(trainFiles[1]), gzip: true);
            compress.Stop();
            var gzFiles = new[] { Path.Combine(gzFolder, FileNames[0] + ".gz"), Path.Combine(gzFolder, FileNames[1] + ".gz") };
            Console.WriteLine($"  (gzip copies written in {compress.Elapsed.TotalSeconds:F2} s: {Mb(gzFiles.Sum(f => new FileInfo(f).Length))} for {Mb(trainFiles.Sum(f => new FileInfo(f).Length))})");
            Time("load train, .gz (MnistDataset.Load)", () => MnistDataset.Load(gzFolder, MnistSplit.Train).Dispose());
            Time("SHA-256 of the .gz train files", () => Hash(gzFiles));
            Time("load + SHA-256, .gz", () =>
            {
                Hash(gzFiles);
                MnistDataset.Load(gzFolder, MnistSplit.Train).Dispose();
            });
        }
        finally
        {
            Directory.Delete(gzFolder, recursive: true);
        }

        using var train = MnistDataset.Load(folder, MnistSplit.Train);
        var shuffled = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 64, Shuffle = true });
        var ordered = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 64 });
        var epoch = 0;
        Time($"epoch, {shuffled.BatchCount} shuffled batches of 64", () => Drain(shuffled.GetBatches(epoch++, seed: 1)), EpochRuns);
        Time($"epoch, {ordered.BatchCount} in-order batches of 64", () => Drain(ordered.GetBatches(0)), EpochRuns);

        // The best preset's augmentation (managed affine_grid + grid_sample per image, float64, on CPU batches).
        var augmented = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 64, Shuffle = true, Augmentation = new DigitAugmentation() });
        Time($"epoch, {augmented.BatchCount} shuffled batches of 64, augmented", () => Drain(augmented.GetBatches(epoch++, seed: 1)), EpochRuns);
        return 0;
    }

    /// <summary>
    /// The first <see cref="AugmentationBatches"/> shuffled batches of 64 without augmentation, with the best preset's
    /// augmentation in managed code (what the loader does on the CPU) and with torch's <c>affine_grid</c> +
    /// <c>grid_sample</c> (the loader's path before, still used for batches on an accelerator), one after another in one
    /// process, 3 runs each; prints the ratios.
    /// </summary>
    public static int RunAugmentation(string folder)
    {
        using var train = MnistDataset.Load(folder, MnistSplit.Train);
        var augmentation = new DigitAugmentation();
        var plain = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 64, Shuffle = true });
        var augmented = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 64, Shuffle = true, Augmentation = augmentation });
        var epoch = 0;
        Console.WriteLine($"torch threads {torch.get_num_threads()}, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        var batches = $"{AugmentationBatches} of {plain.BatchCount} shuffled batches of 64";
        var none = Time($"{batches}", () => Drain(plain.GetBatches(epoch++, seed: 1).Take(AugmentationBatches)), 3);
        var managed = Time($"{batches}, augmented (managed)", () => Drain(augmented.GetBatches(epoch++, seed: 1).Take(AugmentationBatches)), 3);
        var withTorch = Time($"{batches}, augmented (torch)", () => DrainAugmentedByTorch(plain, augmentation, epoch++), 3);
        Console.WriteLine($"augmentation's own cost: managed {Ms(managed - none)}, torch {Ms(withTorch - none)}: torch / managed = {(withTorch - none) / (managed - none):F1}x");
        Console.WriteLine($"batches with augmentation / without: managed {managed / none:F2}x, torch {withTorch / none:F2}x");
        Console.WriteLine($"load average at the end {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private const int AugmentationBatches = 200;

    private static void DrainAugmentedByTorch(DigitDataLoader plain, DigitAugmentation augmentation, int epoch)
    {
        var order = plain.GetOrder(epoch, seed: 1);
        var b = 0;
        foreach (var batch in plain.GetBatches(epoch, seed: 1).Take(AugmentationBatches))
        {
            var start = b++ * 64;
            var count = (int)batch.Images.shape[0];
            BatchAugmentation.ApplyWithTorch(batch, order.AsSpan(start, count), augmentation, 1, epoch, plain.Dataset.Normalization).Dispose();
        }
    }

    private static void Memory(string folder)
    {
        var raw = FileNames.Sum(n => new FileInfo(Path.Combine(folder, n)).Length);
        using (torch.zeros(1))
        {
            // Loads libtorch, so the baseline includes it.
        }

        var (baseline, baselinePeak) = Settled();
        using var train = MnistDataset.Load(folder, MnistSplit.Train);
        using var test = MnistDataset.Load(folder, MnistSplit.Test);
        var (loaded, peak) = Settled();
        var resident = loaded - baseline;
        var peakGrowth = peak - baselinePeak;
        Console.WriteLine($"memory: raw IDX size of both splits {Mb(raw)}");
        Console.WriteLine($"  working set {Mb(baseline)} before loading, {Mb(loaded)} with both splits loaded: +{Mb(resident)} = {Ratio(resident, raw)} raw");
        Console.WriteLine($"  peak working set {Mb(baselinePeak)} before, {Mb(peak)} after: +{Mb(peakGrowth)} = {Ratio(peakGrowth, raw)} raw");
        Console.WriteLine($"  managed heap after loading {Mb(GC.GetTotalMemory(false))}");
    }

    private static (long WorkingSet, long Peak) Settled()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return (process.WorkingSet64, process.PeakWorkingSet64);
    }

    private static double Time(string name, Action action, int runs = Runs)
    {
        action(); // warm-up: JIT, page cache
        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            // Outside the timing: without it, a run pays for collecting the previous runs' 47 MB arrays,
            // which a program loading once never does.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var watch = Stopwatch.StartNew();
            action();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }

        Array.Sort(times);
        Row(name, Ms(times[runs / 2]), Ms(times[0]), Ms(times[^1]));
        return times[runs / 2];
    }

    private static void Drain(IEnumerable<DigitBatch> batches)
    {
        foreach (var batch in batches)
        {
            batch.Dispose();
        }
    }

    private static void Hash(string[] files)
    {
        foreach (var file in files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            SHA256.HashData(stream);
        }
    }

    private static void Row(string name, string median, string min, string max) =>
        Console.WriteLine($"{name,-44} {median,10} {min,10} {max,10}");

    private static string Ms(double ms) => ms.ToString("F1", CultureInfo.InvariantCulture) + " ms";

    private static string Mb(long bytes) => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " MB";

    private static string Ratio(long part, long whole) => ((double)part / whole).ToString("F2", CultureInfo.InvariantCulture) + "x";
}
