namespace MnistCnn.Core.Data.Download;

/// <summary>What a <see cref="MnistDownloader"/> download (<c>DownloadAsync</c>) did.</summary>
/// <param name="Directory">Full path of the folder that now holds the four verified files.</param>
/// <param name="DownloadedFiles">Names of the files fetched (from a mirror or a hand-placed <c>.gz</c>) in this call.</param>
/// <param name="ExistingFiles">Names of the files that were already present and verified, so were left untouched.</param>
public sealed record MnistDownloadResult(
    string Directory,
    IReadOnlyList<string> DownloadedFiles,
    IReadOnlyList<string> ExistingFiles);
