// Downloads the four files of MNIST (default), Fashion-MNIST or KMNIST into a folder and verifies them.
// Usage: MnistCnn.Samples.Download <folder> [--dataset mnist|fashion|kmnist] [--timeout <seconds>] [--retries <n>] [--mirror <url|file-uri|folder>]...
// Exit codes: 0 done, 1 download failed, 2 bad arguments, 130 cancelled.
using MnistCnn.Core.Data.Download;
using System.Globalization;
using MnistCnn.Core.Data;
using MnistCnn.Samples.Download;

const string Usage =
    "usage: MnistCnn.Samples.Download <folder> [--dataset mnist|fashion|kmnist] [--timeout <seconds>] [--retries <n>] [--mirror <url|file-uri|folder>]...";

MnistDownloadOptions options;
MnistDatasetInfo dataset;
string folder;
try
{
    (folder, dataset, options) = ParseArguments(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

try
{
    var result = await new MnistDownloader(options).DownloadAsync(folder, dataset, new ConsoleProgress(), cancellation.Token);
    Console.WriteLine(
        $"{dataset.Name} ready in {result.Directory}: {result.DownloadedFiles.Count} downloaded, {result.ExistingFiles.Count} already present and verified.");
    return 0;
}
catch (MnistDownloadException ex)
{
    var failures = string.Join("; ", ex.Failures.Select(f => $"{f.Mirror}: {f.Reason}"));
    Console.Error.WriteLine(
        $"error: no mirror provided a verified {ex.FileName} ({failures}); place the files by hand in {ex.Directory} (see docs/data.md)");
    return 1;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled; no partial file was left behind");
    return 130;
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

static (string Folder, MnistDatasetInfo Dataset, MnistDownloadOptions Options) ParseArguments(string[] args)
{
    string? folder = null;
    var dataset = MnistDatasetInfo.Mnist;
    var options = new MnistDownloadOptions();
    var mirrors = new List<string>();
    for (var i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "--timeout":
                options.RequestTimeout = TimeSpan.FromSeconds(ParseNumber(args, ++i, "--timeout"));
                break;
            case "--retries":
                options.RetriesPerMirror = ParseNumber(args, ++i, "--retries");
                break;
            case "--dataset":
                dataset = ValueOf(args, ++i, "--dataset") switch
                {
                    "mnist" => MnistDatasetInfo.Mnist,
                    "fashion" => MnistDatasetInfo.FashionMnist,
                    "kmnist" => MnistDatasetInfo.Kmnist,
                    var other => throw new ArgumentException($"--dataset needs mnist, fashion or kmnist, not '{other}'"),
                };
                break;
            case "--mirror":
                mirrors.Add(ValueOf(args, ++i, "--mirror"));
                break;
            case var option when option.StartsWith("--", StringComparison.Ordinal):
                throw new ArgumentException($"unknown option {option}");
            default:
                folder = folder is null ? args[i] : throw new ArgumentException($"unexpected argument {args[i]}");
                break;
        }
    }

    if (mirrors.Count > 0)
    {
        options.Mirrors = mirrors;
    }

    return (folder ?? throw new ArgumentException("the target folder is missing"), dataset, options);
}

static string ValueOf(string[] args, int index, string option) =>
    index < args.Length ? args[index] : throw new ArgumentException($"{option} needs a value");

static int ParseNumber(string[] args, int index, string option) =>
    int.TryParse(ValueOf(args, index, option), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
        ? value
        : throw new ArgumentException($"{option} needs a whole number");
