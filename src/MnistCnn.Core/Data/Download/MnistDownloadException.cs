using System.Globalization;
using System.Text;

namespace MnistCnn.Core.Data.Download;

/// <summary>
/// Thrown by <see cref="MnistDownloader"/>'s <c>DownloadAsync</c> when no mirror provides a verified copy of
/// a file of MNIST, Fashion-MNIST or KMNIST. The message lists every mirror with its failure and explains how to place the files by hand.
/// </summary>
/// <remarks>No partial or unverified file is left under the file's name or a temporary name.</remarks>
public sealed class MnistDownloadException : IOException
{
    /// <summary>Creates an exception with a generic message and no failures.</summary>
    public MnistDownloadException()
        : this("The MNIST files could not be downloaded.")
    {
    }

    /// <summary>Creates an exception with the given message and no failures.</summary>
    /// <param name="message">The message.</param>
    public MnistDownloadException(string message)
        : base(message)
    {
        Failures = [];
    }

    /// <summary>Creates an exception with the given message and cause, and no failures.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public MnistDownloadException(string message, Exception innerException)
        : base(message, innerException)
    {
        Failures = [];
    }

    internal MnistDownloadException(
        string datasetName, string fileName, string directory, IReadOnlyList<MnistMirrorFailure> failures, IEnumerable<string> allFileNames)
        : base(BuildMessage(datasetName, fileName, directory, failures, allFileNames))
    {
        FileName = fileName;
        Directory = directory;
        Failures = failures;
    }

    /// <summary>The file no mirror could provide (standard name, without <c>.gz</c>), if known.</summary>
    public string? FileName { get; }

    /// <summary>The full path of the target folder, if known.</summary>
    public string? Directory { get; }

    /// <summary>Each source tried, in order, with why it failed.</summary>
    public IReadOnlyList<MnistMirrorFailure> Failures { get; }

    private static string BuildMessage(
        string datasetName, string fileName, string directory, IReadOnlyList<MnistMirrorFailure> failures, IEnumerable<string> allFileNames)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Could not obtain a verified copy of the {datasetName} file '{fileName}' from any mirror:");
        foreach (var failure in failures)
        {
            var attempts = failure.Attempts > 1 ? $" (after {failure.Attempts} attempts)" : string.Empty;
            text.AppendLine().Append(CultureInfo.InvariantCulture, $"  - {failure.Mirror}: {failure.Reason}{attempts}");
        }

        text.AppendLine()
            .Append(CultureInfo.InvariantCulture, $"To place the files by hand, put them in '{directory}' under the names ")
            .Append(string.Join(", ", allFileNames))
            .Append(", either decompressed or gzip-compressed with '.gz' appended (e.g. train-images-idx3-ubyte.gz), ")
            .Append("then run the download again: it verifies them (MD5 for .gz files, SHA-256 where one is pinned) and fetches nothing. ")
            .Append("A local folder or file:// URI holding them can also be added to MnistDownloadOptions.Mirrors.");
        return text.ToString();
    }
}
