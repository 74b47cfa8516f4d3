using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests;
using MnistCnn.Core.Tests.Reliability.Fuzzing;
using MnistCnn.Core.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

/// <summary>
/// The torch side of the hostile model file tests: makes a seed checkpoint, then loads mutated weights files
/// (<see cref="ModelWeights.Load"/>) or checkpoints (<see cref="Trainer.Resume"/>) one by one and prints one
/// line per file, so that a native crash ends this process, not the test run, and names the file.
/// </summary>
internal static class LoadFuzz
{
    private const int ModelSeed = 99;

    /// <summary>Trains ConvNet two epochs on the synthetic set with a checkpoint: <c>seed.ckpt</c> in <paramref name="folder"/>.</summary>
    public static int Seed(string folder)
    {
        using var train = LearnableDigits.Make(48, seed: 1);
        using var model = new ConvNet(seed: 7);
        var options = new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 2, Seed = 7, Threads = 1, CheckpointPath = Path.Combine(folder, "seed.ckpt") };
        new Trainer(options).Fit(model, Loader(train));
        Console.WriteLine("seeded");
        return 0;
    }

    /// <summary>
    /// Makes cases <paramref name="from"/> to <paramref name="to"/> (exclusive) of series <paramref name="series"/> from
    /// <paramref name="seedFile"/>, writes each to <paramref name="work"/>, loads it and prints
    /// <c>case index outcome allocated model-digest optimizer-digest history path exception-type file-path message</c>,
    /// tab-separated (outcome: ok, refused for ModelFileException, other for any other exception).
    /// The model is a fresh <c>ConvNet(seed: 99)</c> each time, whose digest the first line gives (<c>fresh digest</c>).
    /// </summary>
    public static int Run(string kind, string seedFile, int series, int from, int to, string work, string? fault = null)
    {
        var (faultKind, faultAt) = fault?.Split(':') is [var what, var at] ? (what, int.Parse(at, CultureInfo.InvariantCulture)) : (string.Empty, -1);
        var seed = File.ReadAllBytes(seedFile);
        using var train = LearnableDigits.Make(48, seed: 1);
        using (var fresh = new ConvNet(seed: ModelSeed))
        {
            Console.WriteLine($"fresh\t{Digest(fresh)}");
        }

        Func<int, int, FuzzCase> make = kind switch
        {
            "weights" => new SafeTensorsMutator(seed).Make,
            "checkpoint" => new CheckpointMutator(seed).Make,
            _ => throw new ArgumentException($"Unknown kind '{kind}'.", nameof(kind)),
        };
        for (var i = from; i < to; i++)
        {
            if (i == faultAt)
            {
                if (faultKind == "crash")
                {
                    Environment.FailFast($"A deliberate crash at case {i}.");
                }

                Thread.Sleep(Timeout.Infinite);
            }

            var input = make(series, i);
            var path = Path.Combine(work, $"case-{i.ToString(CultureInfo.InvariantCulture)}.{(kind == "weights" ? "safetensors" : "ckpt")}");
            File.WriteAllBytes(path, input.Bytes);
            using var model = new ConvNet(seed: ModelSeed);
            var capture = new CaptureAtStart();
            var (outcome, type, message, filePath, optimizer) = ("ok", "-", "-", "-", "-");
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                if (kind == "weights")
                {
                    ModelWeights.Load(model, path);
                }
                else
                {
                    var options = new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 50, Seed = 7, Threads = 1, Callbacks = [capture] };
                    new Trainer(options).Resume(path, model, Loader(train));
                }
            }
            catch (ModelFileException e)
            {
                (outcome, type, message, filePath) = ("refused", e.GetType().FullName!, e.Message, e.FilePath ?? "-");
            }
            catch (Exception e)
            {
                (outcome, type, message) = ("other", e.GetType().FullName!, e.Message);
                Console.Error.WriteLine($"case {i}: {e}");
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before - capture.OwnAllocation;
            var modelDigest = capture.ModelDigest ?? Digest(model);
            if (kind == "checkpoint" && outcome == "ok")
            {
                optimizer = RestoredOptimizerDigest(path);
            }

            File.Delete(path);
            Console.WriteLine(string.Join('\t', "case", i.ToString(CultureInfo.InvariantCulture), outcome, allocated.ToString(CultureInfo.InvariantCulture),
                modelDigest, optimizer, capture.History ?? "-", path, type, OneLine(filePath), OneLine(message)));
        }

        return 0;
    }

    /// <summary>The digest the tests compute from a file's bytes (SafeTensorsImage.Digest) of a model's state.</summary>
    public static string Digest(nn.Module model) =>
        SafeTensorsImage.Digest(model.state_dict().Select(kv => (kv.Key, kv.Value.detach().cpu().contiguous().bytes.ToArray())));

    // The optimizer state the trainer's restore produces, written back in TorchSharp's format: equal to the file's
    // section exactly when every value was loaded as written.
    private static string RestoredOptimizerDigest(string path)
    {
        using var model = new ConvNet(seed: ModelSeed);
        using var optimizer = new FusedAdam(model.parameters(), 0.01, 0.9, 0.999, 1e-8, 0);
        TrainingCheckpoint.Restore(path, model, optimizer, []);
        using var state = new MemoryStream();
        using (var writer = new BinaryWriter(state, Encoding.UTF8, leaveOpen: true))
        {
            optimizer.save_state_dict(writer);
        }

        return Convert.ToHexString(SHA256.HashData(state.ToArray()));
    }

    private static DigitDataLoader Loader(DigitDataset train) => new(train, new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true });

    private static string OneLine(string text) => text.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ');

    /// <summary>Records what the restore produced (weights, history) and stops the run before it trains.</summary>
    private sealed class CaptureAtStart : TrainingCallback
    {
        public string? ModelDigest { get; private set; }

        public string? History { get; private set; }

        // What the capture itself allocates, so the load's own allocation can be reported without it.
        public long OwnAllocation { get; private set; }

        public override void OnFitStart(TrainingContext context)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            ModelDigest = Digest(context.Model);
            History = JsonSerializer.Serialize(context.History);
            context.RequestStop();
            OwnAllocation = GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }
}
