namespace MnistCnn.Core.Data.Download;

/// <summary>One file of a downloadable data set and the hashes it must match.</summary>
/// <param name="Name">File name without the <c>.gz</c> suffix, as stored on disk.</param>
/// <param name="GzipMd5">Lower-case hex MD5 of the gzip-compressed file served by mirrors.</param>
/// <param name="Sha256">
/// Lower-case hex SHA-256 of the decompressed file, or <see langword="null"/> when none is pinned: the file is
/// then accepted only from a <c>.gz</c> that matches <paramref name="GzipMd5"/>, and the SHA-256 of what it
/// decompressed to is recorded beside it (<c>&lt;name&gt;.sha256</c>) to verify the stored copy later.
/// </param>
/// <param name="Length">Length in bytes of the decompressed file.</param>
internal sealed record MnistFile(string Name, string GzipMd5, string? Sha256, long Length)
{
    /// <summary>
    /// The most bytes a genuine <c>.gz</c> of this file can have: deflate's stored blocks add 5 bytes per
    /// 65,535, and the gzip header and trailer at most the 64 KiB allowed here for names and extra fields.
    /// A source that sends more is wrong (or endless) and is cut off there rather than filling the disk.
    /// </summary>
    public long MaxGzipLength => Length + (Length / 1000) + (64 * 1024);
}
