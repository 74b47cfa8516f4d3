using System.Globalization;
using MnistCnn.Core.Benchmarks;

// Modes (./build.sh bench drives train and report; see docs/performance.md):
//   data <folder>                                   load, batching and memory figures
//   augment <folder>                                an epoch of batches with and without the best preset's augmentation
//   train <folder> [--seed N] [--epochs N] [--threads N] [--json OUT] [--preset best]
//                                                   the case study (or the best preset: LeNet) through the public API, timed
//   profile <folder> [--threads N] [--steps N]     per-phase timings of training steps, validation passes
//   engine-step <folder> [--network lenet|speedrun|convnet] [--threads N] [--steps N]
//                                                   the managed engine's training step alone (no torch), then its per-layer profile
//   inference <folder> --model M [--threads N] [--peer PEER.json] [--markdown OUT] [--json OUT]
//                                                   managed DigitClassifier vs TorchSharp (and PyTorch's figures)
//   predict <folder> --model M [--threads N] [--rounds N]
//                                                   the managed classifier alone, for A/B runs of two builds
//   predict-profile <folder> --model M [--rounds N]
//                                                   one image's prediction per layer and part (columns, product, epilogue), 1 thread
//   micro [BENCHMARKDOTNET ARGS]                   BenchmarkDotNet micro-benchmarks of the hot paths
//   gemm [--rounds N] [--seconds S] [--json OUT]   the engine's matrix product per vector width beside torch.matmul
//   report --out OUT [--context TEXT] [--inference OURS.json --inference-peer PEER.json] NAME=JSON...
//                                                   side-by-side table and ratios; the last NAME is ours
switch (args)
{
    case ["data", var folder]:
        return DataBenchmark.Run(folder);
    case ["augment", var folder]:
        return DataBenchmark.RunAugmentation(folder);
    case ["train", var folder, .. var rest]:
        var options = Options(rest);
        return TrainBenchmark.Run(
            folder,
            Int(options, "--seed", 0),
            Int(options, "--epochs", 5),
            Int(options, "--threads", 2),
            options.GetValueOrDefault("--json"),
            options.GetValueOrDefault("--preset") == "best");
    case ["profile", var folder, .. var rest]:
        var profileOptions = Options(rest);
        return StepProfile.Run(folder, Int(profileOptions, "--threads", 2), Int(profileOptions, "--steps", 300));
    case ["engine-step", var folder, .. var rest]:
        var stepOptions = Options(rest);
        return EngineStepProfile.Run(folder, stepOptions.GetValueOrDefault("--network") ?? "speedrun", Int(stepOptions, "--threads", 2), Int(stepOptions, "--steps", 100));
    case ["inference", var folder, .. var rest]:
        var inferenceOptions = Options(rest);
        return InferenceBenchmark.Run(
            folder,
            inferenceOptions.GetValueOrDefault("--model") ?? throw new ArgumentException("inference needs --model <weights.safetensors>"),
            Int(inferenceOptions, "--threads", 2),
            inferenceOptions.GetValueOrDefault("--peer"),
            inferenceOptions.GetValueOrDefault("--markdown"),
            inferenceOptions.GetValueOrDefault("--json"));
    case ["predict", var folder, .. var rest]:
        var predictOptions = Options(rest);
        return PredictBenchmark.Run(
            folder,
            predictOptions.GetValueOrDefault("--model") ?? throw new ArgumentException("predict needs --model <weights.safetensors>"),
            Int(predictOptions, "--threads", 2),
            Int(predictOptions, "--rounds", 5));
    case ["predict-profile", var folder, .. var rest]:
        var profileModel = Options(rest);
        return PredictProfile.Run(
            folder,
            profileModel.GetValueOrDefault("--model") ?? throw new ArgumentException("predict-profile needs --model <weights.safetensors>"),
            Int(profileModel, "--rounds", 5));
    case ["gemm", .. var rest]:
        var gemmOptions = Options(rest);
        return GemmBenchmark.Run(
            Int(gemmOptions, "--rounds", 7),
            gemmOptions.TryGetValue("--seconds", out var seconds) ? double.Parse(seconds, CultureInfo.InvariantCulture) : 0.2,
            gemmOptions.GetValueOrDefault("--json"));
    case ["micro", .. var rest]:
        return MicroBenchmarks.Run(rest);
    case ["report", .. var rest]:
        var columns = rest.Where(a => !a.StartsWith("--", StringComparison.Ordinal) && a.Contains('=', StringComparison.Ordinal))
            .Select(a => (a[..a.IndexOf('=', StringComparison.Ordinal)], a[(a.IndexOf('=', StringComparison.Ordinal) + 1)..]))
            .ToList();
        var reportOptions = Options(rest.Where(a => a.StartsWith("--", StringComparison.Ordinal) || !a.Contains('=', StringComparison.Ordinal)).ToArray());
        return BenchReport.Run(
            columns,
            reportOptions.GetValueOrDefault("--out") ?? "bench-summary.json",
            reportOptions.GetValueOrDefault("--context") ?? "",
            reportOptions.GetValueOrDefault("--inference"),
            reportOptions.GetValueOrDefault("--inference-peer"));
    default:
        Console.Error.WriteLine("Usage: MnistCnn.Core.Benchmarks data <folder> | train <folder> [--seed N] [--epochs N] [--threads N] [--json OUT] | report --out OUT [--context TEXT] NAME=JSON...");
        return 2;
}

static Dictionary<string, string> Options(string[] args)
{
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        options[args[i]] = args[i + 1];
    }

    return options;
}

static int Int(Dictionary<string, string> options, string name, int fallback) =>
    options.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
