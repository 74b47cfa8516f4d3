using MnistCnn.Core.Data.Download;
using System.Globalization;
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;

// Modes (one line per event on stdout, so the parent test can follow and kill at chosen moments):
//   train <checkpoint> <final-weights> <epochs>
//       trains ConvNet on a learnable synthetic set (seed 7, one thread), writing <checkpoint> after every
//       epoch; resumes from <checkpoint> when it exists. Prints "start <completed epochs>", "saved <epoch>"
//       once each checkpoint is in place, and "done" after saving the final weights.
//   download <folder> <hash-table> <timeout-ms> <mirror>...
//       runs MnistDownloader with the files of <hash-table> (lines "name md5 sha256 length"). Prints "ok" or
//       "failed: <message>" (exit code 3).
//   fulldisk <folder>
//       <folder> is a small file system of its own. Trains one epoch with a checkpoint there and saves the weights,
//       fills the file system, then tries a second epoch (its checkpoint) and another weights save. Prints
//       "key: value" lines: what each save threw, the files left, whether the earlier files are unchanged, and,
//       after the filler is deleted, whether training resumes from the earlier checkpoint.
//   loadfuzz-seed <folder>
//       trains two epochs with a checkpoint, <folder>/seed.ckpt, for the hostile checkpoint tests. Prints "seeded".
//   loadfuzz <weights|checkpoint> <seed-file> <series> <from> <to> <work-folder> [crash:<i>|hang:<i>]
//       makes mutated weights files or checkpoints from <seed-file> (cases from..to-1 of the series), loads each
//       with ModelWeights.Load or Trainer.Resume and prints one line per file (see LoadFuzz.cs). The fault, for
//       the test of the test, crashes (Environment.FailFast) or hangs at case <i> instead of loading it.
return args switch
{
    ["loadfuzz-seed", var folder] => LoadFuzz.Seed(folder),
    ["loadfuzz", var kind, var seedFile, var series, var from, var to, var work, .. var fault] => LoadFuzz.Run(
        kind, seedFile, int.Parse(series, CultureInfo.InvariantCulture), int.Parse(from, CultureInfo.InvariantCulture), int.Parse(to, CultureInfo.InvariantCulture), work, fault.SingleOrDefault()),
    ["fulldisk", var folder] => FullDisk(folder),
    ["train", var checkpoint, var finalWeights, var epochs] => Train(checkpoint, finalWeights, int.Parse(epochs, CultureInfo.InvariantCulture)),
    ["download", var folder, var table, var timeout, .. var mirrors] => await DownloadAsync(folder, table, int.Parse(timeout, CultureInfo.InvariantCulture), mirrors),
    _ => Usage(),
};

static int Train(string checkpoint, string finalWeights, int epochs)
{
    using var train = LearnableDigits.Make(48, seed: 1);
    using var model = new ConvNet(seed: 7);
    var options = new TrainerOptions
    {
        Device = TrainingDevice.Cpu,
        Epochs = epochs,
        Seed = 7,
        Threads = 1,
        CheckpointPath = checkpoint,
        Callbacks = [new AnnounceStart()],
    };
    var loader = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true });

    // Epoch-completed reports come after the checkpoint is renamed into place.
    var progress = SynchronousProgress.OnEpochCompleted(epoch => Console.WriteLine($"saved {epoch.ToString(CultureInfo.InvariantCulture)}"));
    var trainer = new Trainer(options);
    _ = File.Exists(checkpoint)
        ? trainer.Resume(checkpoint, model, loader, progress: progress)
        : trainer.Fit(model, loader, progress: progress);
    ModelWeights.Save(model, finalWeights);
    Console.WriteLine("done");
    return 0;
}

static int FullDisk(string folder)
{
    var checkpoint = Path.Combine(folder, "run.ckpt");
    var weights = Path.Combine(folder, "model.safetensors");
    using var train = LearnableDigits.Make(32, seed: 1);
    var loader = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16 });
    TrainerOptions Options(int epochs) => new() { Device = TrainingDevice.Cpu, Epochs = epochs, Seed = 7, Threads = 1, CheckpointPath = checkpoint };

    using var model = new ConvNet(seed: 7);
    new Trainer(Options(1)).Fit(model, loader);
    ModelWeights.Save(model, weights);
    var checkpointHash = Hash(checkpoint);
    var weightsHash = Hash(weights);

    // Leave less free space than either file needs, so both saves below run out of it part-way.
    var free = new DriveInfo(folder).AvailableFreeSpace;
    var leave = Math.Min(new FileInfo(weights).Length, new FileInfo(checkpoint).Length) / 4;
    var filler = Path.Combine(folder, "filler");
    using (var stream = new FileStream(filler, FileMode.CreateNew))
    {
        var zeros = new byte[64 * 1024];
        for (var left = free - leave; left > 0; left -= zeros.Length)
        {
            stream.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
        }
    }

    Console.WriteLine($"free-before-saves: {new DriveInfo(folder).AvailableFreeSpace}");
    Console.WriteLine($"checkpoint-save: {Outcome(() => new Trainer(Options(2)).Resume(checkpoint, model, loader))}");
    Console.WriteLine($"weights-save: {Outcome(() => ModelWeights.Save(model, weights))}");
    Console.WriteLine($"files: {string.Join(' ', Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal))}");
    Console.WriteLine($"checkpoint-unchanged: {Hash(checkpoint) == checkpointHash}");
    Console.WriteLine($"weights-unchanged: {Hash(weights) == weightsHash}");

    File.Delete(filler);
    using var reloaded = new ConvNet(seed: 99);
    ModelWeights.Load(reloaded, weights);
    Console.WriteLine("weights-load: ok");
    using var resumed = new ConvNet(seed: 99);
    var history = new Trainer(Options(2)).Resume(checkpoint, resumed, loader);
    Console.WriteLine($"resumed-epochs: {history.Epochs.Count.ToString(CultureInfo.InvariantCulture)}");
    return 0;

    static string Hash(string path) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));

    static string Outcome(Action save)
    {
        try
        {
            save();
            return "saved";
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";
        }
    }
}

static async Task<int> DownloadAsync(string folder, string table, int timeoutMs, string[] mirrors)
{
    var files = File.ReadAllLines(table)
        .Select(line => line.Split(' '))
        .Select(f => new MnistFile(f[0], f[1], f[2], long.Parse(f[3], CultureInfo.InvariantCulture)))
        .ToArray();
    var options = new MnistDownloadOptions
    {
        Mirrors = mirrors,
        RequestTimeout = TimeSpan.FromMilliseconds(timeoutMs),
        RetriesPerMirror = 1,
        RetryDelay = TimeSpan.Zero,
    };
    try
    {
        var result = await new MnistDownloader(options, null, MnistDatasetInfo.Mnist.WithFiles(files)).DownloadAsync(folder);
        Console.WriteLine($"ok downloaded={result.DownloadedFiles.Count} existing={result.ExistingFiles.Count}");
        return 0;
    }
    catch (MnistDownloadException e)
    {
        Console.WriteLine($"failed: {e.Message.ReplaceLineEndings(" | ")}");
        return 3;
    }
}

static int Usage()
{
    Console.Error.WriteLine("usage: train <checkpoint> <final-weights> <epochs> | fulldisk <folder> | download <folder> <hash-table> <timeout-ms> <mirror>... | loadfuzz-seed <folder> | loadfuzz <weights|checkpoint> <seed-file> <series> <from> <to> <work-folder> [crash:<i>|hang:<i>]");
    return 2;
}

internal sealed class AnnounceStart : TrainingCallback
{
    public override void OnFitStart(TrainingContext context) =>
        Console.WriteLine($"start {context.History.Count.ToString(CultureInfo.InvariantCulture)}");
}
