using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Reliability.Fuzzing;
using MnistCnn.Core.Training;
using Xunit.Abstractions;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// Seeded fuzzing of every public loader of model files with thousands of mutated safetensors files and
/// checkpoints (<see cref="SafeTensorsMutator"/>, <see cref="CheckpointMutator"/>). Each file must either load
/// exactly what its bytes say (judged by the tests' own reading of the formats, <see cref="SafeTensorsImage"/>)
/// or be refused with <see cref="ModelFileException"/> naming the file and the reason; nothing else is allowed.
/// <see cref="DigitClassifier.Load"/> runs in this process with its allocation measured; the torch loaders
/// (<see cref="ModelWeights.Load"/>, <see cref="Trainer.Resume"/>) run in the reliability host, a child
/// process, so that a native crash is counted (and names its file) instead of ending the test run.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class HostileModelFileTests(ITestOutputHelper output) : IDisposable
{
    private const int Series = 20261128;

    // Every mutation the same number of times: 26 safetensors mutations, 37 checkpoint mutations.
    private const int ManagedCases = 26 * 120;
    private const int WeightsCases = 26 * 20;
    private const int CheckpointCases = 37 * 20;

    // DigitClassifier.Load may allocate the file (read once), the weights (copied out once), the header's JSON
    // document and the refusal's message: at most AllocationFactor times the file plus AllocationSlack.
    private const double AllocationFactor = 3;
    private const long AllocationSlack = 256 * 1024;

    // The torch loaders (measured in the child, managed memory only) may also hold a copy for torch, the
    // tensors' arrays and, for a checkpoint, the optimizer section's stream and the trainer's objects.
    private const double TorchAllocationFactor = 5;
    private const long TorchAllocationSlack = 1024 * 1024;

    // A crash or hang in the child is counted and the run goes on after the file; this many end the test early.
    private const int MaxChildFailures = 5;

    // First match wins: the category a refusal's reason falls in, for the figures.
    private static readonly (string Words, string Category)[] ReasonCategories =
    [
        ("signature", "checkpoint signature"),
        ("SHA-256", "checkpoint seal"),
        ("section", "checkpoint sections"),
        ("optimizer", "optimizer state"),
        ("NaN or infinite", "NaN/infinite value"),
        ("declares a header of", "header length"),
        ("fewer than the 8", "header length"),
        ("UTF-8 JSON", "header JSON/UTF-8"),
        ("does not start with '{'", "header JSON/UTF-8"),
        ("not a JSON object", "header JSON/UTF-8"),
        ("twice", "duplicate name"),
        ("does not fill", "shape/size"),
        ("data_offsets", "offsets/layout"),
        ("lacks one of", "header entry fields"),
        ("field", "header entry fields"),
        ("something other than a JSON object", "header entry fields"),
        ("__metadata__", "header entry fields"),
        ("dtype", "dtype"),
        ("shape", "shape/size"),
        ("overlapping", "offsets/layout"),
        ("unused", "offsets/layout"),
        ("after its last tensor", "offsets/layout"),
        ("data bytes but holds", "offsets/layout"),
        ("architecture", "architecture"),
        ("written from a model", "architecture"),
        ("header", "checkpoint header"),
        ("history", "checkpoint header"),
    ];

    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(PretrainedModel.CaseStudy)]
    [InlineData(PretrainedModel.Best)]
    public void DigitClassifierLoad_MutatedWeightsFiles_LoadTheFilesWeightsOrThrowModelFileException(PretrainedModel seedFile)
    {
        var mutator = new SafeTensorsMutator(PretrainedBytes(seedFile));
        var path = Path.Combine(_folder.Path, "case.safetensors");
        var tally = new Tally();
        var current = -1;
        Exception? failure = null;

        // A dedicated thread: allocations are counted per thread, and a hang is caught by the join below.
        var worker = new Thread(() =>
        {
            try
            {
                Run();
            }
            catch (Exception e)
            {
                // A failure of the test's own code: reported below, not left to end the test process.
                failure = e;
            }
        });
        worker.Start();
        var finished = worker.Join(TimeSpan.FromMinutes(5));

        Report("DigitClassifier.Load (managed parser, in process)", tally, $"bound {AllocationFactor} x file + {AllocationSlack / 1024} KiB");
        finished.Should().BeTrue($"DigitClassifier.Load must not hang (stuck at case #{current})");
        failure.Should().BeNull();
        tally.Problems.Should().BeEmpty();
        tally.Tried.Should().Be(ManagedCases);
        tally.Loaded.Should().BeGreaterThan(0, "benign mutations must load");
        tally.RefusedByCategory.Keys.Should().Contain(["NaN/infinite value", "header length", "offsets/layout", "architecture"]);

        void Run()
        {
            for (var i = 0; i < ManagedCases; i++)
            {
                current = i;
                var input = mutator.Make(Series, i);
                File.WriteAllBytes(path, input.Bytes);
                DigitClassifier? classifier = null;
                Exception? error = null;
                var before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    classifier = DigitClassifier.Load(path);
                }
                catch (Exception e)
                {
                    error = e;
                }

                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                var outcome = Outcome.Of(error, path, classifier is null ? null : Digest(classifier), allocated);
                var problem = JudgeWeights(input, outcome, classifier: true);
                if (problem is null && classifier is not null && !classifier.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal)
                    .SequenceEqual(SafeTensorsImage.Check(input.Bytes).Metadata!.OrderBy(m => m.Key, StringComparer.Ordinal)))
                {
                    problem = "loaded metadata that differs from the file's";
                }

                if (allocated > (AllocationFactor * input.Bytes.Length) + AllocationSlack)
                {
                    problem ??= $"allocated {allocated:N0} bytes for a {input.Bytes.Length:N0}-byte file, over {AllocationFactor} x file + {AllocationSlack / 1024} KiB";
                }

                tally.Add(input, outcome, problem);
            }
        }
    }

    [Fact]
    public async Task ModelWeightsLoadAndTrainerResume_MutatedFiles_InAChildProcess_LoadExactlyOrThrowModelFileException()
    {
        using var seed = HostProcess.Start("loadfuzz-seed", _folder.Path);
        var seeded = await seed.ReadUntilAsync(l => l == "seeded");
        await seed.WaitForExitAsync();
        seeded.Should().NotBeNull($"the host must write the seed checkpoint: {seed.Stderr}");

        var pretrained = Path.Combine(_folder.Path, "pretrained.safetensors");
        await File.WriteAllBytesAsync(pretrained, PretrainedBytes());
        var checkpoint = Path.Combine(_folder.Path, "seed.ckpt");
        var work = Directory.CreateDirectory(Path.Combine(_folder.Path, "cases")).FullName;

        var weightsMutator = new SafeTensorsMutator(await File.ReadAllBytesAsync(pretrained));
        var weights = await RunInChildAsync("weights", pretrained, WeightsCases, work, i => weightsMutator.Make(Series, i), JudgeWeights);
        var checkpointMutator = new CheckpointMutator(await File.ReadAllBytesAsync(checkpoint));
        var checkpoints = await RunInChildAsync("checkpoint", checkpoint, CheckpointCases, work, i => checkpointMutator.Make(Series, i), JudgeCheckpoint);

        var bound = $"managed, measured in the child; bound {TorchAllocationFactor} x file + {TorchAllocationSlack / 1024} KiB";
        Report("ModelWeights.Load (child process)", weights, bound);
        Report("Trainer.Resume from a checkpoint (child process)", checkpoints, bound);
        weights.Problems.Should().BeEmpty();
        checkpoints.Problems.Should().BeEmpty();
        (weights.Crashes + weights.Hangs + checkpoints.Crashes + checkpoints.Hangs).Should().Be(0);
        weights.Tried.Should().Be(WeightsCases);
        checkpoints.Tried.Should().Be(CheckpointCases);
        weights.Loaded.Should().BeGreaterThan(0);
        checkpoints.Loaded.Should().BeGreaterThan(0);
        checkpoints.RefusedByCategory.Keys.Should().Contain(["checkpoint seal", "checkpoint signature", "optimizer state", "NaN/infinite value"]);
    }

    [Fact]
    public async Task RunInChild_HostCrashesOrHangsOnACase_CountsItNamesTheFileAndGoesOnAfterIt()
    {
        var pretrained = Path.Combine(_folder.Path, "pretrained.safetensors");
        await File.WriteAllBytesAsync(pretrained, PretrainedBytes());
        var work = Directory.CreateDirectory(Path.Combine(_folder.Path, "cases")).FullName;
        var mutator = new SafeTensorsMutator(PretrainedBytes());

        var crashed = await RunInChildAsync("weights", pretrained, 5, work, i => mutator.Make(Series, i), JudgeWeights, fault: "crash:2", saveFolder: _folder.Path);
        var hung = await RunInChildAsync("weights", pretrained, 4, work, i => mutator.Make(Series, i), JudgeWeights, fault: "hang:1", silence: TimeSpan.FromSeconds(20), saveFolder: _folder.Path);

        (crashed.Tried, crashed.Crashes, crashed.Hangs, crashed.Loaded + crashed.Refused).Should().Be((5, 1, 0, 4));
        crashed.Problems.Should().ContainSingle().Which.Should().Contain("weights case #2").And.Contain("crashed the host").And.Contain("hostile-weights-case-2.bin");
        (hung.Tried, hung.Crashes, hung.Hangs, hung.Loaded + hung.Refused).Should().Be((4, 0, 1, 3));
        hung.Problems.Should().ContainSingle().Which.Should().Contain("weights case #1").And.Contain("hung");
    }

    /// <summary>
    /// The common oracle of the weights loaders. Loaded: the file must be valid by the tests' own reading, hold
    /// exactly the ConvNet's tensors, and the loaded weights must equal its bytes. Refused: only with
    /// <see cref="ModelFileException"/> whose message starts with the path, for a file that is not loadable, with
    /// the reason the mutation calls for, and the model unchanged.
    /// </summary>
    private static string? JudgeWeights(FuzzCase input, Outcome outcome) => JudgeWeights(input, outcome, classifier: false);

    // classifier: the loader is DigitClassifier.Load, which takes the architecture from the metadata or the tensors
    // (SafeTensorsImage.ClassifierArchitecture); otherwise ModelWeights.Load into a ConvNet, which needs its tensors.
    private static string? JudgeWeights(FuzzCase input, Outcome outcome, bool classifier)
    {
        var verdict = SafeTensorsImage.Check(input.Bytes);
        var loadable = classifier ? verdict.IsLoadableByClassifier : verdict.IsLoadableConvNet;
        return outcome.Kind switch
        {
            "ok" when !loadable => $"loaded a file the oracle refuses ({verdict.Problem ?? "not the tensors of the architecture it must hold"})",
            "ok" when input.MustRefuseWith is not null => "loaded a file its mutation makes invalid",
            "ok" when outcome.ModelDigest != SafeTensorsImage.Digest(verdict.Tensors!.Select(t => (t.Name, t.Data))) => "loaded weights that differ from the file's bytes",
            "ok" => null,
            "refused" => JudgeRefusal(input, outcome, loadable),
            _ => $"threw {outcome.ExceptionType}: {outcome.Message}",
        };
    }

    private static string? JudgeRefusal(FuzzCase input, Outcome outcome, bool mustLoad) =>
        !outcome.Message.StartsWith(outcome.Path + ": ", StringComparison.Ordinal) || outcome.FilePath != outcome.Path ? $"the message does not name the file: {outcome.Message}"
        : mustLoad || input.MustLoad ? $"refused a valid file: {outcome.Message}"
        : input.MustRefuseWith is { Length: > 0 } words && !outcome.Message.Contains(words, StringComparison.OrdinalIgnoreCase) ? $"refused without saying '{words}': {outcome.Message}"
        : !outcome.ModelUnchanged ? $"refused, but changed the model: {outcome.Message}"
        : null;

    /// <summary>
    /// The oracle of <see cref="Trainer.Resume"/>. Loaded: the file must be a sealed MNCKPT02 checkpoint of three
    /// sections by the tests' own reading; the model must hold its weights section's values, the history must
    /// equal its header's, and the optimizer state (restored, then written back) must equal its optimizer
    /// section byte for byte. Refused: as for weights files.
    /// </summary>
    private static string? JudgeCheckpoint(FuzzCase input, Outcome line)
    {
        if (line.Kind == "other")
        {
            return $"threw {line.ExceptionType}: {line.Message}";
        }

        if (line.Kind == "refused")
        {
            return JudgeRefusal(input, line, mustLoad: false);
        }

        if (input.MustRefuseWith is not null)
        {
            return "loaded a checkpoint its mutation makes invalid";
        }

        if (CheckpointImage.TryParse(input.Bytes) is not { } image)
        {
            return "loaded a checkpoint whose magic, seal or sections are invalid";
        }

        var weights = SafeTensorsImage.Check(image.Weights);
        if (!weights.IsLoadableConvNet)
        {
            return $"loaded a checkpoint whose weights the oracle refuses ({weights.Problem ?? "not the ConvNet's tensors"})";
        }

        if (line.ModelDigest != SafeTensorsImage.Digest(weights.Tensors!.Select(t => (t.Name, t.Data))))
        {
            return "loaded weights that differ from the checkpoint's";
        }

        if (line.OptimizerDigest != Convert.ToHexString(SHA256.HashData(image.Optimizer)))
        {
            return "restored an optimizer state that differs from the checkpoint's";
        }

        try
        {
            using var header = JsonDocument.Parse(image.Header);
            var written = header.RootElement.GetProperty("History").Deserialize<EpochResult[]>()!;
            var loaded = JsonSerializer.Deserialize<EpochResult[]>(line.History)!;
            return written.SequenceEqual(loaded) ? null : "loaded a history that differs from the checkpoint's";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"loaded a checkpoint whose header the oracle cannot read ({e.Message})";
        }
    }

    private static string Digest(DigitClassifier classifier)
    {
        var w = classifier.Weights;
        return SafeTensorsImage.Digest(w.Description.Parameters.Select((p, i) => (p.Name, MemoryMarshal.AsBytes(w[i]).ToArray())).ToList());
    }

    private static byte[] PretrainedBytes(PretrainedModel model = PretrainedModel.CaseStudy)
    {
        using var stream = typeof(DigitClassifier).Assembly.GetManifestResourceStream(
            model == PretrainedModel.Best ? DigitClassifier.BestResource : DigitClassifier.CaseStudyResource)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string Category(string message) =>
        ReasonCategories.FirstOrDefault(c => message.Contains(c.Words, StringComparison.Ordinal)).Category ?? "other reason";

    /// <summary>
    /// Runs the host on cases 0..count-1, one line per case. When the host dies before reporting a case (a crash:
    /// a signal or an unhandled exception), or reports nothing for two minutes (a hang, then killed), that case
    /// is counted as such, its bytes are kept (artifacts/test-results unless told otherwise), and a new host
    /// continues after it.
    /// </summary>
    private static async Task<Tally> RunInChildAsync(
        string kind, string seedFile, int count, string work, Func<int, FuzzCase> make, Func<FuzzCase, Outcome, string?> judge, string? fault = null, TimeSpan? silence = null, string? saveFolder = null)
    {
        var tally = new Tally();
        var next = 0;
        while (next < count && tally.Crashes + tally.Hangs < MaxChildFailures)
        {
            using var host = HostProcess.Start(
            [
                "loadfuzz", kind, seedFile, Series.ToString(CultureInfo.InvariantCulture), next.ToString(CultureInfo.InvariantCulture),
                count.ToString(CultureInfo.InvariantCulture), work, .. fault is null ? Array.Empty<string>() : [fault],
            ]);
            var (expected, fresh, hung) = (next, string.Empty, false);
            while (true)
            {
                using var watchdog = new CancellationTokenSource(silence ?? TimeSpan.FromMinutes(2));
                string? text;
                try
                {
                    text = await host.ReadLineAsync(watchdog.Token);
                }
                catch (OperationCanceledException)
                {
                    host.Kill();
                    hung = true;
                    break;
                }

                if (text is null)
                {
                    break;
                }

                var fields = text.Split('\t');
                if (fields[0] == "fresh")
                {
                    fresh = fields[1];
                    continue;
                }

                var line = Outcome.Parse(fields, fresh);
                line.Index.Should().Be(expected, "the host reports every case in order");
                var input = make(line.Index);
                var problem = judge(input, line);
                if (line.Allocated > (TorchAllocationFactor * input.Bytes.Length) + TorchAllocationSlack)
                {
                    problem ??= $"allocated {line.Allocated:N0} bytes for a {input.Bytes.Length:N0}-byte file, over {TorchAllocationFactor} x file + {TorchAllocationSlack / 1024} KiB";
                }

                tally.Add(input, line, problem);
                expected++;
            }

            await host.WaitForExitAsync();
            if (expected < count)
            {
                var input = make(expected);
                var saved = Path.Combine(saveFolder ?? ResultsFolder(), $"hostile-{kind}-case-{expected}.bin");
                await File.WriteAllBytesAsync(saved, input.Bytes);
                var what = hung ? "hung (no answer in time; killed)" : $"crashed the host (exit code {host.ExitCode})";
                tally.Child(hung, $"{kind} case #{expected} ({input.Mutation}, saved as {saved}) {what}: {Tail(host.Stderr)}");
                expected++;
            }

            next = expected;
        }

        return tally;
    }

    private static string ResultsFolder()
    {
        var folder = Path.Combine(RepositoryFolder.Root, "artifacts", "test-results");
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : text[^2000..];

    private void Report(string loader, Tally tally, string allocationNote)
    {
        ReliabilityReport.Record(
            $"Hostile weights and checkpoint files: {loader}",
            [
                $"files tried: {tally.Tried} (series {Series}); mutations: {string.Join(", ", tally.Mutations.Select(m => $"{m.Key} {m.Value}"))}",
                $"loaded, equal bit for bit to the file's content: {tally.Loaded}",
                $"refused with ModelFileException naming the file: {tally.Refused} ({string.Join(", ", tally.RefusedByCategory.Select(c => $"{c.Key} {c.Value}"))})",
                $"other exceptions: {tally.OtherExceptions}; crashes: {tally.Crashes}; hangs: {tally.Hangs}",
                $"largest managed allocation of one load: {tally.MaxAllocated:N0} bytes; largest allocated/file-size ratio among files of {Tally.RatioMinimumBytes / 1024} KiB or more: {tally.MaxRatio:F2} ({allocationNote})",
                $"problems (wrong data, wrong refusal, other exception, crash, hang, allocation over the bound): {tally.Problems.Count}",
                .. tally.Problems.Take(20).Select(p => "  " + p),
            ],
            output);
    }

    /// <summary>
    /// What one load did: ok, refused (<see cref="ModelFileException"/>) or other (any other exception); the
    /// digest of the loaded model (or, after a refusal, whether the model is unchanged); for checkpoints the
    /// restored optimizer state's digest and the history; the error's message and file.
    /// </summary>
    private sealed record Outcome(int Index, string Kind, long Allocated, string? ModelDigest, bool ModelUnchanged, string OptimizerDigest, string History, string Path, string ExceptionType, string? FilePath, string Message)
    {
        public static Outcome Of(Exception? error, string path, string? modelDigest, long allocated) => new(
            -1,
            error is null ? "ok" : error is ModelFileException ? "refused" : "other",
            allocated,
            modelDigest,
            ModelUnchanged: true,
            "-",
            "-",
            path,
            error?.GetType().FullName ?? "-",
            (error as ModelFileException)?.FilePath,
            error?.Message ?? "-");

        /// <summary>A host line: <c>case index outcome allocated model-digest optimizer-digest history path type file-path message</c>.</summary>
        public static Outcome Parse(string[] f, string fresh) => new(
            int.Parse(f[1], CultureInfo.InvariantCulture),
            f[2],
            long.Parse(f[3], CultureInfo.InvariantCulture),
            f[4],
            f[4] == fresh,
            f[5],
            f[6],
            f[7],
            f[8],
            f[9] == "-" ? null : f[9],
            f[10]);
    }

    /// <summary>Counts of one loader's fuzzing.</summary>
    private sealed class Tally
    {
        // Below this size a load's fixed costs (messages, small objects) dominate any ratio to the file size.
        public const int RatioMinimumBytes = 64 * 1024;

        public int Tried { get; private set; }

        public int Loaded { get; private set; }

        public int Refused { get; private set; }

        public int OtherExceptions { get; private set; }

        public int Crashes { get; private set; }

        public int Hangs { get; private set; }

        public long MaxAllocated { get; private set; }

        public double MaxRatio { get; private set; }

        public SortedDictionary<string, int> RefusedByCategory { get; } = new(StringComparer.Ordinal);

        public SortedDictionary<string, int> Mutations { get; } = new(StringComparer.Ordinal);

        public List<string> Problems { get; } = [];


        public void Child(bool hung, string problem)
        {
            Tried++;
            _ = hung ? Hangs++ : Crashes++;
            Problems.Add(problem);
        }

        public void Add(FuzzCase input, Outcome outcome, string? problem)
        {
            Tried++;
            var mutation = input.Mutation.Split(" (")[0];
            Mutations[mutation] = Mutations.GetValueOrDefault(mutation) + 1;
            switch (outcome.Kind)
            {
                case "ok":
                    Loaded++;
                    break;
                case "refused":
                    Refused++;
                    var category = Category(outcome.Message);
                    RefusedByCategory[category] = RefusedByCategory.GetValueOrDefault(category) + 1;
                    break;
                default:
                    OtherExceptions++;
                    break;
            }

            MaxAllocated = Math.Max(MaxAllocated, outcome.Allocated);
            if (input.Bytes.Length >= RatioMinimumBytes)
            {
                MaxRatio = Math.Max(MaxRatio, (double)outcome.Allocated / input.Bytes.Length);
            }

            if (problem is not null)
            {
                Problems.Add($"case #{input.Index} ({input.Mutation}, {input.Bytes.Length} bytes): {problem}");
            }
        }
    }
}
