namespace MnistCnn.Core.Data.Download;

/// <summary>What a <see cref="MnistDownloader"/> download (<c>DownloadAsync</c>) did.</summary>
/// <remarks>
/// Init-only properties rather than a positional record, so that a field added in a later version breaks no caller
/// (no constructor or <c>Deconstruct</c> changes shape).
/// </remarks>
public sealed record MnistDownloadResult
{
    /// <summary>Full path of the folder that now holds the four verified files.</summary>
    public required string Directory { get; init; }

    /// <summary>Names of the files fetched (from a mirror or a hand-placed <c>.gz</c>) in this call.</summary>
    public required IReadOnlyList<string> DownloadedFiles { get; init; }

    /// <summary>Names of the files that were already present and verified, so were left untouched.</summary>
    public required IReadOnlyList<string> ExistingFiles { get; init; }
}
