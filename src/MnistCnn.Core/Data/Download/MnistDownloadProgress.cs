namespace MnistCnn.Core.Data.Download;

/// <summary>Progress of fetching one file of MNIST, Fashion-MNIST or KMNIST, reported by <see cref="MnistDownloader"/>.</summary>
/// <remarks>
/// Init-only properties rather than a positional record, so that a field added in a later version breaks no caller
/// (no constructor or <c>Deconstruct</c> changes shape).
/// </remarks>
public sealed record MnistDownloadProgress
{
    /// <summary>The standard file name being fetched, without <c>.gz</c> (e.g. <c>train-images-idx3-ubyte</c>).</summary>
    public required string FileName { get; init; }

    /// <summary>Bytes read so far from the mirror (compressed bytes when the mirror serves <c>.gz</c>).</summary>
    public required long BytesReceived { get; init; }

    /// <summary>
    /// Size of what the mirror serves, when it is known (HTTP <c>Content-Length</c> or the local file size); otherwise
    /// <see langword="null"/>.
    /// </summary>
    public required long? TotalBytes { get; init; }

    /// <summary>The mirror as configured in <see cref="MnistDownloadOptions.Mirrors"/>, or the target folder for a hand-placed <c>.gz</c> file.</summary>
    public required string Mirror { get; init; }
}
