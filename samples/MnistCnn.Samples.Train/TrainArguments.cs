using System.Globalization;
using MnistCnn.Core.Data.Download;
using MnistCnn.Core.Training;

namespace MnistCnn.Samples.Train;

/// <summary>The command line of the training sample; every default is the chosen preset's (the case study's unless <c>--preset best</c>).</summary>
internal sealed record TrainArguments
{
    public const string Usage =
        "usage: MnistCnn.Samples.Train [--preset faithful|best|speedrun] [--dataset mnist|fashion|kmnist] [--data <folder>] [--download] [--epochs <n>] [--batch-size <n>] [--lr <rate>] " +
        "[--label-smoothing <e>] [--seed <n>|none] [--device auto|cpu|cuda] [--threads <n>] [--shuffle] [--augment] [--output <folder>] [--checkpoint <folder> [--resume]] [--find-lr]";

    /// <summary>The settings of <c>--preset best</c> before any other option: the library's recipe; --lr sets its one-cycle peak.</summary>
    private static readonly TrainArguments BestPreset = new()
    {
        Preset = TrainingPreset.Best,
        Epochs = TrainingRecipe.Best.Epochs,
        BatchSize = TrainingRecipe.Best.BatchSize,
        LearningRate = TrainingRecipe.Best.MaxLearningRate,
        LabelSmoothing = TrainingRecipe.Best.LabelSmoothing,
        Shuffle = true,
        Augment = true,
    };

    /// <summary>The settings of <c>--preset speedrun</c> before any other option: the library's recipe; --lr sets its one-cycle peak.</summary>
    private static readonly TrainArguments SpeedrunPreset = new()
    {
        Preset = TrainingPreset.Speedrun,
        Epochs = TrainingRecipe.Speedrun.Epochs,
        BatchSize = TrainingRecipe.Speedrun.BatchSize,
        LearningRate = TrainingRecipe.Speedrun.MaxLearningRate,
        Shuffle = true,
    };

    /// <summary>Gets the network and recipe: the case study's ConvNet (default) or LeNet with the stronger recipe.</summary>
    public TrainingPreset Preset { get; init; }

    /// <summary>Gets the data set to train on (--dataset): MNIST by default.</summary>
    public MnistDatasetInfo Dataset { get; init; } = MnistDatasetInfo.Mnist;

    /// <summary>Gets the folder given with --data, or null for the data set's own: data/mnist, data/fashion-mnist or data/kmnist.</summary>
    public string? DataFolderOption { get; init; }

    public string DataFolder => DataFolderOption ?? $"data/{Dataset.FolderName}";

    public bool Download { get; init; }

    public int Epochs { get; init; } = 5;

    public int BatchSize { get; init; } = 64;

    public double LearningRate { get; init; } = 0.01;

    /// <summary>Gets the training loss's label smoothing (--label-smoothing), in [0, 1): the preset's, 0 for the case study.</summary>
    public double LabelSmoothing { get; init; }

    public long? Seed { get; init; } = 0;

    public TrainingDevice Device { get; init; } = TrainingDevice.Auto;

    /// <summary>Gets the number of CPU threads torch may use for the run (--threads), or null for the count in force.</summary>
    public int? Threads { get; init; }

    public bool Shuffle { get; init; }

    /// <summary>Gets a value indicating whether training batches get the library's default random affine augmentation.</summary>
    public bool Augment { get; init; }

    public string OutputFolder { get; init; } = "mnist-run";

    /// <summary>Gets the folder of the run's checkpoint (written after every epoch), or null for none.</summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>Gets a value indicating whether to continue from the checkpoint in <see cref="CheckpointFolder"/> when there is one.</summary>
    public bool Resume { get; init; }

    /// <summary>Gets the checkpoint file in <see cref="CheckpointFolder"/>, or null.</summary>
    public string? CheckpointPath => CheckpointFolder is null ? null : Path.Combine(CheckpointFolder, "train.ckpt");

    /// <summary>Gets a value indicating whether to sweep the learning rate (writing lr-find.png and printing the suggested rate) instead of training.</summary>
    public bool FindLearningRate { get; init; }

    public bool Help { get; init; }

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public static TrainArguments Parse(string[] args)
    {
        // The preset sets the defaults, whatever its position; the other options override them.
        var preset = args.Select((arg, i) => arg == "--preset" ? ParsePreset(Value(args, i + 1, arg)) : (TrainingPreset?)null).LastOrDefault(p => p is not null);
        var result = preset switch
        {
            TrainingPreset.Best => BestPreset,
            TrainingPreset.Speedrun => SpeedrunPreset,
            _ => new TrainArguments(),
        };
        for (var i = 0; i < args.Length; i++)
        {
            var option = args[i];
            result = option switch
            {
                "--preset" => result with { Preset = ParsePreset(Value(args, ++i, option)) },
                "--data" => result with { DataFolderOption = Value(args, ++i, option) },
                "--dataset" => result with { Dataset = ParseDataset(Value(args, ++i, option)) },
                "--download" => result with { Download = true },
                "--epochs" => result with { Epochs = Positive(Value(args, ++i, option), option) },
                "--batch-size" => result with { BatchSize = Positive(Value(args, ++i, option), option) },
                "--lr" => result with { LearningRate = Rate(Value(args, ++i, option), option) },
                "--label-smoothing" => result with { LabelSmoothing = Smoothing(Value(args, ++i, option), option) },
                "--seed" => result with { Seed = ParseSeed(Value(args, ++i, option)) },
                "--device" => result with { Device = ParseDevice(Value(args, ++i, option)) },
                "--threads" => result with { Threads = Positive(Value(args, ++i, option), option) },
                "--shuffle" => result with { Shuffle = true },
                "--augment" => result with { Augment = true },
                "--output" => result with { OutputFolder = Value(args, ++i, option) },
                "--checkpoint" => result with { CheckpointFolder = Value(args, ++i, option) },
                "--resume" => result with { Resume = true },
                "--find-lr" => result with { FindLearningRate = true },
                "-h" or "--help" => result with { Help = true },
                _ => throw new ArgumentException($"unknown argument '{option}'"),
            };
        }

        if (result.Resume && result.CheckpointFolder is null)
        {
            throw new ArgumentException("--resume needs --checkpoint <folder>: the folder the earlier run wrote its checkpoint to");
        }

        if (result.Resume && result.Seed is null)
        {
            throw new ArgumentException("--resume needs the run's seed: pass --seed <n> (a run started with --seed none printed the seed it drew)");
        }

        return result;
    }

    private static string Value(string[] args, int index, string option) =>
        index < args.Length && !args[index].StartsWith("--", StringComparison.Ordinal)
            ? args[index]
            : throw new ArgumentException($"{option} needs a value");

    private static int Positive(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{option} needs a whole number above 0, not '{text}'");

    private static double Rate(string text, string option) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value > 0
            ? value
            : throw new ArgumentException($"{option} needs a number above 0, not '{text}'");

    private static double Smoothing(string text, string option) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && value < 1
            ? value
            : throw new ArgumentException($"{option} needs a number in [0, 1), not '{text}'");

    private static long? ParseSeed(string text) =>
        text == "none" ? null
        : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value
        : throw new ArgumentException($"--seed needs a whole number or 'none', not '{text}'");

    private static MnistDatasetInfo ParseDataset(string text) => text switch
    {
        "mnist" => MnistDatasetInfo.Mnist,
        "fashion" => MnistDatasetInfo.FashionMnist,
        "kmnist" => MnistDatasetInfo.Kmnist,
        _ => throw new ArgumentException($"--dataset needs mnist, fashion or kmnist, not '{text}'"),
    };

    private static TrainingPreset ParsePreset(string text) => text switch
    {
        "faithful" => TrainingPreset.Faithful,
        "best" => TrainingPreset.Best,
        "speedrun" => TrainingPreset.Speedrun,
        _ => throw new ArgumentException($"--preset needs faithful, best or speedrun, not '{text}'"),
    };

    private static TrainingDevice ParseDevice(string text) => text switch
    {
        "auto" => TrainingDevice.Auto,
        "cpu" => TrainingDevice.Cpu,
        "cuda" => TrainingDevice.Cuda,
        _ => throw new ArgumentException($"--device needs auto, cpu or cuda, not '{text}'"),
    };
}
