using System.Globalization;

namespace MnistCnn.Samples.Predict;

/// <summary>The command line of the prediction sample.</summary>
internal sealed record PredictArguments
{
    public string Command { get; init; } = "help";

    public string? ModelPath { get; init; }

    public string DataFolder { get; init; } = "data/mnist";

    public string? OutputFolder { get; init; }

    public int Count { get; init; } = 20;

    public int Worst { get; init; } = 3;

    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public static PredictArguments Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            return new PredictArguments();
        }

        var result = new PredictArguments
        {
            Command = args[0] is "predict" or "evaluate" or "export" ? args[0] : throw new ArgumentException($"unknown command '{args[0]}'"),
        };
        var files = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            var option = args[i];
            result = option switch
            {
                "--model" => result with { ModelPath = Value(args, ++i, option) },
                "--data" => result with { DataFolder = Value(args, ++i, option) },
                "--out" => result with { OutputFolder = Value(args, ++i, option) },
                "--count" => result with { Count = Positive(Value(args, ++i, option), option) },
                "--worst" => result with { Worst = Positive(Value(args, ++i, option), option) },
                _ when option.StartsWith("--", StringComparison.Ordinal) => throw new ArgumentException($"unknown option '{option}'"),
                _ when result.Command == "predict" => Add(files, option, result),
                _ => throw new ArgumentException($"unexpected argument '{option}'"),
            };
        }

        result = result with { Files = files };
        return result.Command switch
        {
            "predict" when result.ModelPath is null => throw new ArgumentException("predict needs --model <file>"),
            "predict" when files.Count == 0 => throw new ArgumentException("predict needs at least one image file"),
            "evaluate" when result.ModelPath is null => throw new ArgumentException("evaluate needs --model <file>"),
            "export" when result.OutputFolder is null => throw new ArgumentException("export needs --out <folder>"),
            _ => result,
        };
    }

    private static PredictArguments Add(List<string> files, string file, PredictArguments result)
    {
        files.Add(file);
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
}
