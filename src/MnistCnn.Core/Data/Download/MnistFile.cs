namespace MnistCnn.Core.Data;

/// <summary>One file of a downloadable data set and the hashes it must match.</summary>
/// <param name="Name">File name without the <c>.gz</c> suffix, as stored on disk.</param>
/// <param name="GzipMd5">Lower-case hex MD5 of the gzip-compressed file served by mirrors.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the decompressed file.</param>
internal sealed record MnistFile(string Name, string GzipMd5, string Sha256);
