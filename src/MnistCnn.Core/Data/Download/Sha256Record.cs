using System.Text;

namespace MnistCnn.Core.Data.Download;

/// <summary>
/// <c>&lt;name&gt;.sha256</c> beside a downloaded file, in <c>sha256sum</c>'s format: the SHA-256 a file decompressed
/// to from a <c>.gz</c> that matched its published MD5, the reference for a data set without pinned values.
/// </summary>
internal static class Sha256Record
{
    public const string Suffix = ".sha256";

    /// <summary>Records <paramref name="sha256"/> for the file at <paramref name="path"/>, atomically.</summary>
    public static void Write(string path, string sha256) =>
        AtomicFile.Write(path + Suffix, Encoding.UTF8.GetBytes($"{sha256}  {Path.GetFileName(path)}\n"));

    /// <summary>The SHA-256 recorded beside a file when it was downloaded, or null when there is no readable record for it.</summary>
    public static async Task<string?> ReadAsync(string path, CancellationToken ct)
    {
        var recordPath = path + Suffix;
        if (!File.Exists(recordPath))
        {
            return null;
        }

        string text;
        try
        {
            text = await File.ReadAllTextAsync(recordPath, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var isRecord = parts.Length == 2 && parts[1] == Path.GetFileName(path)
            && parts[0].Length == 64 && parts[0].All(char.IsAsciiHexDigitLower);
        return isRecord ? parts[0] : null;
    }
}
