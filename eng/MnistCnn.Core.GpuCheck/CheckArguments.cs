using System.Globalization;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.GpuCheck;

/// <summary>The command line of the CUDA check (see Program.cs for the commands).</summary>
internal sealed record CheckArguments
{
    public const string Usage =
        "usage: MnistCnn.Core.GpuCheck smoke|casestudy|best|resume|absent --json <file> [--data <folder>] [--device cpu|cuda] " +
        "[--first cpu|cuda] [--then cpu|cuda] [--epochs <n>] [--seed <n>]";

    private static readonly string[] Commands = ["smoke", "casestudy", "best", "resume", "absent"];

    public required string Command { get; init; }

    public required string JsonPath { get; init; }

    public string Data { get; init; } = "data/mnist";

    public TrainingDevice Device { get; init; } = TrainingDevice.Cuda;

    public TrainingDevice First { get; init; } = TrainingDevice.Cuda;

    public TrainingDevice Then { get; init; } = TrainingDevice.Cpu;

    public int? Epochs { get; init; }

    public long? Seed { get; init; }

    public static CheckArguments Parse(string[] args)
    {
        if (args.Length == 0 || !Commands.Contains(args[0]))
        {
            throw new ArgumentException(args.Length == 0 ? "a command is missing" : $"unknown command '{args[0]}'");
        }

        string? json = null, data = null;
        TrainingDevice device = TrainingDevice.Cuda, first = TrainingDevice.Cuda, then = TrainingDevice.Cpu;
        int? epochs = null;
        long? seed = null;
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--json": json = value; break;
                case "--data": data = value; break;
                case "--device": device = ParseDevice(value, "--device"); break;
                case "--first": first = ParseDevice(value, "--first"); break;
                case "--then": then = ParseDevice(value, "--then"); break;
                case "--epochs": epochs = checked((int)ParseNumber(value, "--epochs", minimum: 1)); break;
                case "--seed": seed = ParseNumber(value, "--seed", minimum: 0); break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }

            i++;
        }

        return new CheckArguments
        {
            Command = args[0],
            JsonPath = json ?? throw new ArgumentException("--json is required"),
            Data = data ?? "data/mnist",
            Device = device,
            First = first,
            Then = then,
            Epochs = epochs,
            Seed = seed,
        };
    }

    private static TrainingDevice ParseDevice(string value, string option) => value switch
    {
        "cpu" => TrainingDevice.Cpu,
        "cuda" => TrainingDevice.Cuda,
        _ => throw new ArgumentException($"{option} needs cpu or cuda, not '{value}'"),
    };

    private static long ParseNumber(string value, string option, long minimum) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= minimum
            ? number
            : throw new ArgumentException($"{option} needs a whole number of at least {minimum}, not '{value}'");
}
