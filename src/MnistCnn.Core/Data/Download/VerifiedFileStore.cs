using System.IO.Compression;
using System.Security.Cryptography;

namespace MnistCnn.Core.Data.Download;

/// <summary>
/// Verification: stores a file from a source stream under its final name only once it matches its checksums
/// (a <c>.gz</c> its published MD5, the decompressed file its pinned or recorded SHA-256), through
/// <see cref="AtomicFile"/>, so nothing partial or unverified ever carries a final name.
/// </summary>
/// <param name="requestTimeout">The longest a read from a network source may take.</param>
internal sealed class VerifiedFileStore(TimeSpan requestTimeout)
{
    private const int BufferSize = 81920;

    /// <summary>
    /// Copies the .gz to a temporary file while hashing it, checks its MD5, then decompresses it into the final
    /// file while hashing that; the file keeps its name only when its SHA-256 is the expected one.
    /// </summary>
    /// <returns>Null when the file was stored, else why not.</returns>
    public async Task<DownloadFailure?> StoreGzipAsync(
        MnistFile file, Stream source, long? totalBytes, string mirror, string finalPath,
        IProgress<MnistDownloadProgress>? progress, CancellationTokenSource? idleTimeout, CancellationToken ct)
    {
        // A scratch file, never renamed: the decompressed file is the one that gets a final name.
        var gzipTemp = $"{finalPath}.{Guid.NewGuid().ToString("N")[..8]}.gz.partial";
        try
        {
            string? md5;
            var gzipOut = new FileStream(gzipTemp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
            await using (gzipOut.ConfigureAwait(false))
            {
                md5 = await CopyHashingAsync(
                    source, gzipOut, HashAlgorithmName.MD5, file.MaxGzipLength,
                    received => progress?.Report(new MnistDownloadProgress
                    {
                        FileName = file.Name,
                        BytesReceived = received,
                        TotalBytes = totalBytes,
                        Mirror = mirror,
                    }),
                    idleTimeout, ct).ConfigureAwait(false);
            }

            if (md5 is null)
            {
                return new DownloadFailure($"{mirror} sent more than the {file.MaxGzipLength} bytes a .gz of {file.Name} can have (wrong or endless data); " +
                    $"stopped there", IsTransient: false);
            }

            if (md5 != file.GzipMd5)
            {
                return new DownloadFailure($"MD5 mismatch for {file.Name}.gz: got {md5}, expected {file.GzipMd5} (corrupt or truncated file)",
                    IsTransient: false);
            }

            try
            {
                return await StoreIfVerifiedAsync(file, finalPath, async (plainOut, token) =>
                {
                    var gzipIn = OpenRead(gzipTemp);
                    await using (gzipIn.ConfigureAwait(false))
                    {
                        var inflater = new GZipStream(gzipIn, CompressionMode.Decompress);
                        await using (inflater.ConfigureAwait(false))
                        {
                            return await CopyHashingAsync(inflater, plainOut, HashAlgorithmName.SHA256, file.Length, null, null, token).ConfigureAwait(false);
                        }
                    }
                }, ct).ConfigureAwait(false);
            }
            catch (InvalidDataException ex)
            {
                return new DownloadFailure($"{file.Name}.gz is not a valid gzip file: {ex.Message}", IsTransient: false);
            }
        }
        finally
        {
            DeleteQuietly(gzipTemp);
        }
    }

    /// <summary>Copies an already decompressed file into place when a SHA-256 is pinned for it.</summary>
    /// <returns>Null when the file was stored, else why not.</returns>
    public async Task<DownloadFailure?> StorePlainAsync(
        MnistFile file, FileStream source, string mirror, string finalPath, IProgress<MnistDownloadProgress>? progress, CancellationToken ct)
    {
        if (file.Sha256 is null)
        {
            // Without a pinned SHA-256 nothing could vouch for a decompressed file: only a .gz has a published MD5.
            return new DownloadFailure($"{source.Name} is decompressed, and no SHA-256 of {file.Name} is pinned to check it; only {file.Name}.gz " +
                $"(checked against its published MD5) is accepted", IsTransient: false);
        }

        var total = source.Length;
        return await StoreIfVerifiedAsync(file, finalPath, (plainOut, token) => CopyHashingAsync(
                source, plainOut, HashAlgorithmName.SHA256, file.Length,
                received => progress?.Report(new MnistDownloadProgress
                {
                    FileName = file.Name,
                    BytesReceived = received,
                    TotalBytes = total,
                    Mirror = mirror,
                }),
                null, token), ct).ConfigureAwait(false);
    }

    /// <summary>The SHA-256 of a file, as lower-case hex.</summary>
    public static async Task<string> Sha256OfFileAsync(string path, CancellationToken ct)
    {
        var stream = OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false));
        }
    }

    public static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);

    /// <summary>
    /// Writes the decompressed file through <see cref="AtomicFile"/>; <paramref name="copy"/> returns its SHA-256, or
    /// null when it was longer than the file can be. The file gets its final name only when that SHA-256 is the
    /// pinned one, or, with none pinned, after the value is recorded beside it (<see cref="Sha256Record"/>).
    /// </summary>
    private static async Task<DownloadFailure?> StoreIfVerifiedAsync(
        MnistFile file, string finalPath, Func<Stream, CancellationToken, Task<string?>> copy, CancellationToken ct)
    {
        DownloadFailure? failure = null;
        await AtomicFile.WriteAsync(finalPath, async (plainOut, token) =>
        {
            var sha256 = await copy(plainOut, token).ConfigureAwait(false);
            if (sha256 is null)
            {
                failure = new DownloadFailure($"decompressed {file.Name} is longer than its {file.Length} bytes (wrong file)", IsTransient: false);
            }
            else if (file.Sha256 is null)
            {
                // The .gz matched its published MD5: record what it decompressed to, the reference for the stored copy.
                Sha256Record.Write(finalPath, sha256);
            }
            else if (sha256 != file.Sha256)
            {
                failure = new DownloadFailure($"SHA-256 mismatch for decompressed {file.Name}: got {sha256}, expected {file.Sha256}", IsTransient: false);
            }

            return failure is null;
        }, ct).ConfigureAwait(false);
        return failure;
    }

    /// <summary>
    /// Copies a stream while hashing it; with an idle timeout, each read must finish within the request timeout.
    /// Returns null, having stopped, once the source gives more than <paramref name="limit"/> bytes.
    /// </summary>
    private async Task<string?> CopyHashingAsync(
        Stream source, Stream destination, HashAlgorithmName algorithm, long limit, Action<long>? onProgress,
        CancellationTokenSource? idleTimeout, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(algorithm);
        var buffer = new byte[BufferSize];
        var token = idleTimeout?.Token ?? ct;
        long received = 0;
        onProgress?.Invoke(received);
        while (true)
        {
            idleTimeout?.CancelAfter(requestTimeout);
            var read = await source.ReadAsync(buffer, token).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            received += read;
            if (received > limit)
            {
                return null;
            }

            hash.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            onProgress?.Invoke(received);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original failure is what matters to the caller.
        }
    }
}
