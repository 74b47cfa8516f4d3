using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MnistCnn.Core.Data.Download;

/// <summary>
/// Fetches the four files of MNIST, Fashion-MNIST or KMNIST (<see cref="MnistDatasetInfo"/>; MNIST by
/// default) from an ordered list of mirrors into a folder, verifies them and stores them decompressed under
/// their standard names (<see cref="FileNames"/>).
/// </summary>
/// <remarks>
/// <para>
/// For each file: a copy already in the folder whose SHA-256 matches is kept as it is; otherwise a
/// hand-placed <c>&lt;name&gt;.gz</c> in the folder is used, else each mirror is tried in order. A
/// <c>.gz</c> must match the data set's published MD5, and the decompressed file its pinned SHA-256. For a
/// data set without pinned SHA-256 values (<see cref="MnistDatasetInfo.HasPinnedSha256"/>), only a
/// <c>.gz</c> matching the MD5 is accepted, and the SHA-256 of the file it decompressed to is recorded in
/// <c>&lt;name&gt;.sha256</c>, the reference for the copy already in the folder next time.
/// </para>
/// <para>
/// Data is written under temporary names in the target folder and renamed only after it is verified, so
/// no partial or unverified file ever carries a final name; temporary files are removed on failure and
/// on cancellation. A source that sends more bytes than a <c>.gz</c> of the file can have is cut off
/// there, so an endless or wrong stream cannot fill the disk.
/// </para>
/// <example>
/// <code>
/// var downloader = new MnistDownloader(new MnistDownloadOptions(), logger);
/// await downloader.DownloadAsync("data/mnist", progress, cancellationToken);
/// await downloader.DownloadAsync("data/fashion-mnist", MnistDatasetInfo.FashionMnist, progress, cancellationToken);
/// </code>
/// </example>
/// </remarks>
public sealed partial class MnistDownloader
{
    private const int BufferSize = 81920;

    private const string RecordedSha256Suffix = ".sha256";

    private readonly MnistDatasetInfo _defaultDataset;
    private readonly IReadOnlyList<MnistMirror>? _configuredMirrors;
    private readonly TimeSpan _requestTimeout;
    private readonly int _retriesPerMirror;
    private readonly TimeSpan _retryDelay;
    private readonly HttpClient? _httpClient;
    private readonly HttpMessageHandler? _httpMessageHandler;
    private readonly ILogger _logger;

    /// <summary>Creates a downloader with default options (see <see cref="MnistDownloadOptions"/>) and no logging.</summary>
    public MnistDownloader()
        : this(new MnistDownloadOptions())
    {
    }

    /// <summary>Creates a downloader.</summary>
    /// <param name="options">The settings; read once here, so later changes to the object have no effect on this downloader.</param>
    /// <param name="logger">Where to log, or <see langword="null"/> for no logging.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    public MnistDownloader(MnistDownloadOptions options, ILogger<MnistDownloader>? logger = null)
        : this(options, logger, MnistDatasetInfo.Mnist)
    {
    }

    /// <summary>Creates a downloader whose default data set has another file table; tests use it to serve small synthetic files.</summary>
    internal MnistDownloader(MnistDownloadOptions options, ILogger<MnistDownloader>? logger, MnistDatasetInfo defaultDataset)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(defaultDataset);
        _defaultDataset = defaultDataset;
        _configuredMirrors = options.Mirrors is { } mirrors ? [.. mirrors.Select(MnistMirror.Resolve)] : null;
        _requestTimeout = options.RequestTimeout;
        _retriesPerMirror = options.RetriesPerMirror;
        _retryDelay = options.RetryDelay;
        _httpClient = options.HttpClient;
        _httpMessageHandler = options.HttpMessageHandler;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// The standard names of the four MNIST files, as stored on disk: <c>train-images-idx3-ubyte</c>,
    /// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>.
    /// </summary>
    /// <remarks>Fashion-MNIST and KMNIST use the same names (<see cref="MnistDatasetInfo.FileNames"/>).</remarks>
    public static IReadOnlyList<string> FileNames { get; } = MnistDatasetInfo.Mnist.FileNames;

    /// <summary>
    /// Makes sure <paramref name="directory"/> holds the four verified MNIST files, fetching those that are
    /// missing or fail verification.
    /// </summary>
    /// <param name="directory">The target folder; created when missing.</param>
    /// <param name="progress">Receives the bytes read for each file being fetched, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the download; nothing partial is left behind.</param>
    /// <returns>Which files were fetched and which were already present.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="directory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty or blank.</exception>
    /// <exception cref="MnistDownloadException">No mirror provided a verified copy of a file; the message lists each mirror's failure.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<MnistDownloadResult> DownloadAsync(
        string directory,
        IProgress<MnistDownloadProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        DownloadAsync(directory, _defaultDataset, progress, cancellationToken);

    /// <summary>
    /// Makes sure <paramref name="directory"/> holds the four verified files of <paramref name="dataset"/>,
    /// fetching those that are missing or fail verification, from <see cref="MnistDownloadOptions.Mirrors"/>
    /// or else the data set's own mirrors (<see cref="MnistDatasetInfo.DefaultMirrors"/>).
    /// </summary>
    /// <param name="directory">The target folder; created when missing. Keep each data set in its own folder: their file names are the same.</param>
    /// <param name="dataset">The data set: <see cref="MnistDatasetInfo.Mnist"/>,
    /// <see cref="MnistDatasetInfo.FashionMnist"/> or <see cref="MnistDatasetInfo.Kmnist"/>.</param>
    /// <param name="progress">Receives the bytes read for each file being fetched, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the download; nothing partial is left behind.</param>
    /// <returns>Which files were fetched and which were already present.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="directory"/> or <paramref name="dataset"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty or blank.</exception>
    /// <exception cref="MnistDownloadException">No mirror provided a verified copy of a file; the message names the
    /// file and lists each mirror's failure (e.g. the expected and the actual MD5).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<MnistDownloadResult> DownloadAsync(
        string directory,
        MnistDatasetInfo dataset,
        IProgress<MnistDownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(dataset);
        cancellationToken.ThrowIfCancellationRequested();

        var fullDirectory = Path.GetFullPath(directory);
        Directory.CreateDirectory(fullDirectory);

        var mirrors = _configuredMirrors ?? [.. dataset.DefaultMirrors.Select(MnistMirror.Resolve)];
        using var ownedClient = _httpClient is null && mirrors.Any(m => m.HttpBase is not null) ? CreateHttpClient() : null;
        var client = _httpClient ?? ownedClient;

        var downloaded = new List<string>();
        var existing = new List<string>();
        foreach (var file in dataset.Files)
        {
            var fetched = await EnsureFileAsync(dataset, file, mirrors, fullDirectory, client, progress, cancellationToken).ConfigureAwait(false);
            (fetched ? downloaded : existing).Add(file.Name);
        }

        return new MnistDownloadResult(fullDirectory, downloaded, existing);
    }

    /// <summary>Checks that <paramref name="directory"/> holds the four MNIST files with their expected SHA-256.</summary>
    /// <param name="directory">The folder to check.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>One line per missing or mismatching file, naming it and the problem; empty when all four are verified.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="directory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty or blank.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<IReadOnlyList<string>> VerifyAsync(string directory, CancellationToken cancellationToken = default) =>
        VerifyAsync(directory, _defaultDataset, cancellationToken);

    /// <summary>
    /// Checks that <paramref name="directory"/> holds the four files of <paramref name="dataset"/> with their
    /// expected SHA-256: the pinned one, or for a data set without pinned values
    /// (<see cref="MnistDatasetInfo.HasPinnedSha256"/>) the one recorded in <c>&lt;name&gt;.sha256</c> when the
    /// file was downloaded and checked against its published MD5.
    /// </summary>
    /// <param name="directory">The folder to check.</param>
    /// <param name="dataset">The data set the files must belong to.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>One line per missing, unverifiable or mismatching file, naming it and the problem; empty when all four are verified.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="directory"/> or <paramref name="dataset"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty or blank.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static",
        Justification = "An instance member beside DownloadAsync, as the parameterless overload is.")]
    public async Task<IReadOnlyList<string>> VerifyAsync(string directory, MnistDatasetInfo dataset, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(dataset);
        var fullDirectory = Path.GetFullPath(directory);
        var problems = new List<string>();
        foreach (var file in dataset.Files)
        {
            var path = Path.Combine(fullDirectory, file.Name);
            if (!File.Exists(path))
            {
                problems.Add($"{file.Name}: missing from {fullDirectory}");
                continue;
            }

            var expected = file.Sha256 ?? await ReadRecordedSha256Async(path, cancellationToken).ConfigureAwait(false);
            if (expected is null)
            {
                problems.Add($"{file.Name}: no SHA-256 to check it against ({dataset.Name} has none pinned, and {file.Name}{RecordedSha256Suffix} is missing " +
                    $"or unreadable)");
                continue;
            }

            var actual = await Sha256OfFileAsync(path, cancellationToken).ConfigureAwait(false);
            if (actual != expected)
            {
                problems.Add($"{file.Name}: SHA-256 is {actual}, expected {expected}");
            }
        }

        return problems;
    }

    private HttpClient CreateHttpClient()
    {
        // Timeouts are enforced per read by the downloader, so the client's own limit is switched off.
        var client = _httpMessageHandler is null
            ? new HttpClient()
            : new HttpClient(_httpMessageHandler, disposeHandler: false);
        client.Timeout = Timeout.InfiniteTimeSpan;
        return client;
    }

    /// <summary>Returns true when the file was fetched, false when a verified copy was already there.</summary>
    private async Task<bool> EnsureFileAsync(
        MnistDatasetInfo dataset, MnistFile file, IReadOnlyList<MnistMirror> mirrors, string directory, HttpClient? client,
        IProgress<MnistDownloadProgress>? progress, CancellationToken ct)
    {
        var finalPath = Path.Combine(directory, file.Name);
        if (File.Exists(finalPath))
        {
            var expected = file.Sha256 ?? await ReadRecordedSha256Async(finalPath, ct).ConfigureAwait(false);
            var actual = await Sha256OfFileAsync(finalPath, ct).ConfigureAwait(false);
            if (actual == expected)
            {
                LogAlreadyPresent(_logger, dataset.Name, file.Name, directory);
                return false;
            }

            LogExistingFileInvalid(_logger, dataset.Name, file.Name, directory, actual, expected ?? $"none: no {file.Name}{RecordedSha256Suffix} record");
        }

        var failures = new List<MnistMirrorFailure>();

        var handPlacedGzip = finalPath + ".gz";
        if (File.Exists(handPlacedGzip))
        {
            var failure = await TryLocalFileAsync(file, handPlacedGzip, compressed: true, directory, finalPath, progress, ct)
                .ConfigureAwait(false);
            if (failure is null)
            {
                LogObtained(_logger, dataset.Name, file.Name, handPlacedGzip);
                return true;
            }

            LogAttemptFailed(_logger, dataset.Name, file.Name, directory, failure.Value.Reason);
            failures.Add(new MnistMirrorFailure(directory, failure.Value.Reason, 1));
        }

        foreach (var mirror in mirrors)
        {
            var failure = mirror.HttpBase is null
                ? await TryLocalMirrorAsync(dataset, file, mirror, finalPath, progress, ct).ConfigureAwait(false)
                : await TryHttpMirrorAsync(dataset, file, mirror, finalPath, client!, progress, ct).ConfigureAwait(false);
            if (failure is null)
            {
                LogObtained(_logger, dataset.Name, file.Name, mirror.Configured);
                return true;
            }

            failures.Add(failure);
        }

        LogAllSourcesFailed(_logger, dataset.Name, file.Name, failures.Count);
        throw new MnistDownloadException(dataset.Name, file.Name, directory, failures, dataset.FileNames);
    }

    private async Task<MnistMirrorFailure?> TryHttpMirrorAsync(
        MnistDatasetInfo dataset, MnistFile file, MnistMirror mirror, string finalPath, HttpClient client, IProgress<MnistDownloadProgress>? progress,
            CancellationToken ct)
    {
        var attempts = 1 + _retriesPerMirror;
        var uri = mirror.FileUri(file.Name);
        var url = uri.AbsoluteUri;
        for (var attempt = 1; ; attempt++)
        {
            LogFetching(_logger, dataset.Name, file.Name, url, attempt, attempts);
            var failure = await TryHttpOnceAsync(file, mirror, uri, finalPath, client, progress, ct).ConfigureAwait(false);
            if (failure is null)
            {
                return null;
            }

            LogAttemptFailed(_logger, dataset.Name, file.Name, mirror.Configured, failure.Value.Reason);
            if (!failure.Value.IsTransient || attempt == attempts)
            {
                return new MnistMirrorFailure(mirror.Configured, failure.Value.Reason, attempt);
            }

            var delay = _retryDelay * Math.Pow(2, attempt - 1);
            LogRetrying(_logger, dataset.Name, file.Name, mirror.Configured, delay);
            await Task.Delay(delay, ct).ConfigureAwait(false);
        }
    }

    private async Task<Failure?> TryHttpOnceAsync(
        MnistFile file, MnistMirror mirror, Uri uri, string finalPath, HttpClient client, IProgress<MnistDownloadProgress>? progress, CancellationToken ct)
    {
        // One token per attempt: the caller's cancellation, or silence longer than the request timeout.
        using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attemptCts.CancelAfter(_requestTimeout);
        try
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, attemptCts.Token)
                .ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var code = (int)response.StatusCode;
                var reason = response.ReasonPhrase ?? response.StatusCode.ToString();
                return new Failure($"HTTP {code} ({reason}) for {uri}", IsTransient(code));
            }

            if (response.Content.Headers.ContentLength > file.MaxGzipLength)
            {
                return new Failure($"{uri} announces {response.Content.Headers.ContentLength} bytes, more than the {file.MaxGzipLength} a .gz of {file.Name} " +
                    $"can have (wrong file)", IsTransient: false);
            }

            var body = await response.Content.ReadAsStreamAsync(attemptCts.Token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                return await StoreGzipAsync(
                    file, body, response.Content.Headers.ContentLength, mirror.Configured, finalPath, progress, attemptCts, ct)
                    .ConfigureAwait(false);
            }
        }
        catch (Exception ex) when ((ex is OperationCanceledException or HttpRequestException or IOException) && !ct.IsCancellationRequested)
        {
            return attemptCts.IsCancellationRequested
                ? new Failure($"timed out (no data for {FormatSeconds(_requestTimeout)}) on {uri}", IsTransient: true)
                : new Failure($"download of {uri} failed: {ex.Message}", IsTransient: true);
        }
    }

    private async Task<MnistMirrorFailure?> TryLocalMirrorAsync(
        MnistDatasetInfo dataset, MnistFile file, MnistMirror mirror, string finalPath, IProgress<MnistDownloadProgress>? progress, CancellationToken ct)
    {
        var gzipPath = Path.Combine(mirror.LocalFolder!, file.Name + ".gz");
        var plainPath = Path.Combine(mirror.LocalFolder!, file.Name);
        Failure? failure;
        if (File.Exists(gzipPath))
        {
            LogFetching(_logger, dataset.Name, file.Name, gzipPath, 1, 1);
            failure = await TryLocalFileAsync(file, gzipPath, compressed: true, mirror.Configured, finalPath, progress, ct).ConfigureAwait(false);
        }
        else if (File.Exists(plainPath))
        {
            LogFetching(_logger, dataset.Name, file.Name, plainPath, 1, 1);
            failure = await TryLocalFileAsync(file, plainPath, compressed: false, mirror.Configured, finalPath, progress, ct).ConfigureAwait(false);
        }
        else
        {
            failure = new Failure($"not found: neither {gzipPath} nor {plainPath} exists", IsTransient: false);
        }

        if (failure is null)
        {
            return null;
        }

        LogAttemptFailed(_logger, dataset.Name, file.Name, mirror.Configured, failure.Value.Reason);
        return new MnistMirrorFailure(mirror.Configured, failure.Value.Reason, 1);
    }

    private async Task<Failure?> TryLocalFileAsync(
        MnistFile file, string sourcePath, bool compressed, string mirror, string finalPath,
        IProgress<MnistDownloadProgress>? progress, CancellationToken ct)
    {
        try
        {
            var source = OpenRead(sourcePath);
            await using (source.ConfigureAwait(false))
            {
                return compressed
                    ? await StoreGzipAsync(file, source, source.Length, mirror, finalPath, progress, idleTimeout: null, ct).ConfigureAwait(false)
                    : await StorePlainAsync(file, source, mirror, finalPath, progress, ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when ((ex is IOException or UnauthorizedAccessException) && !ct.IsCancellationRequested)
        {
            return new Failure($"cannot read {sourcePath}: {ex.Message}", IsTransient: false);
        }
    }

    /// <summary>
    /// Copies the .gz to a temporary file while hashing it, checks its MD5, decompresses it to a second
    /// temporary file while hashing that, checks its SHA-256, and only then gives it the final name.
    /// </summary>
    private async Task<Failure?> StoreGzipAsync(
        MnistFile file, Stream source, long? totalBytes, string mirror, string finalPath,
        IProgress<MnistDownloadProgress>? progress, CancellationTokenSource? idleTimeout, CancellationToken ct)
    {
        var gzipTemp = TemporaryPath(finalPath, ".gz.partial");
        var plainTemp = TemporaryPath(finalPath, ".partial");
        try
        {
            string? md5;
            var gzipOut = CreateNew(gzipTemp);
            await using (gzipOut.ConfigureAwait(false))
            {
                md5 = await CopyHashingAsync(
                    source, gzipOut, HashAlgorithmName.MD5, file.MaxGzipLength,
                    received => progress?.Report(new MnistDownloadProgress(file.Name, received, totalBytes, mirror)),
                    idleTimeout, ct).ConfigureAwait(false);
            }

            if (md5 is null)
            {
                return new Failure($"{mirror} sent more than the {file.MaxGzipLength} bytes a .gz of {file.Name} can have (wrong or endless data); stopped " +
                    $"there", IsTransient: false);
            }

            if (md5 != file.GzipMd5)
            {
                return new Failure($"MD5 mismatch for {file.Name}.gz: got {md5}, expected {file.GzipMd5} (corrupt or truncated file)", IsTransient: false);
            }

            string? sha256;
            try
            {
                var gzipIn = OpenRead(gzipTemp);
                await using (gzipIn.ConfigureAwait(false))
                {
                    var inflater = new GZipStream(gzipIn, CompressionMode.Decompress);
                    await using (inflater.ConfigureAwait(false))
                    {
                        var plainOut = CreateNew(plainTemp);
                        await using (plainOut.ConfigureAwait(false))
                        {
                            sha256 = await CopyHashingAsync(inflater, plainOut, HashAlgorithmName.SHA256, file.Length, null, null, ct).ConfigureAwait(false);
                        }
                    }
                }
            }
            catch (InvalidDataException ex)
            {
                return new Failure($"{file.Name}.gz is not a valid gzip file: {ex.Message}", IsTransient: false);
            }

            return CommitIfVerified(file, sha256, plainTemp, finalPath);
        }
        finally
        {
            DeleteQuietly(gzipTemp);
            DeleteQuietly(plainTemp);
        }
    }

    private async Task<Failure?> StorePlainAsync(
        MnistFile file, FileStream source, string mirror, string finalPath, IProgress<MnistDownloadProgress>? progress, CancellationToken ct)
    {
        if (file.Sha256 is null)
        {
            // Without a pinned SHA-256 nothing could vouch for a decompressed file: only a .gz has a published MD5.
            return new Failure($"{source.Name} is decompressed, and no SHA-256 of {file.Name} is pinned to check it; only {file.Name}.gz (checked against " +
                $"its published MD5) is accepted", IsTransient: false);
        }

        var plainTemp = TemporaryPath(finalPath, ".partial");
        try
        {
            string? sha256;
            var plainOut = CreateNew(plainTemp);
            await using (plainOut.ConfigureAwait(false))
            {
                var total = source.Length;
                sha256 = await CopyHashingAsync(
                    source, plainOut, HashAlgorithmName.SHA256, file.Length,
                    received => progress?.Report(new MnistDownloadProgress(file.Name, received, total, mirror)),
                    null, ct).ConfigureAwait(false);
            }

            return CommitIfVerified(file, sha256, plainTemp, finalPath);
        }
        finally
        {
            DeleteQuietly(plainTemp);
        }
    }

    private static Failure? CommitIfVerified(MnistFile file, string? sha256, string plainTemp, string finalPath)
    {
        if (sha256 is null)
        {
            return new Failure($"decompressed {file.Name} is longer than its {file.Length} bytes (wrong file)", IsTransient: false);
        }

        if (file.Sha256 is null)
        {
            // The .gz matched its published MD5: record what it decompressed to, the reference for the stored copy.
            RecordSha256(finalPath, file.Name, sha256);
        }
        else if (sha256 != file.Sha256)
        {
            return new Failure($"SHA-256 mismatch for decompressed {file.Name}: got {sha256}, expected {file.Sha256}", IsTransient: false);
        }

        File.Move(plainTemp, finalPath, overwrite: true);
        return null;
    }

    /// <summary>Writes <c>&lt;name&gt;.sha256</c> in <c>sha256sum</c>'s format, under a temporary name renamed into place.</summary>
    private static void RecordSha256(string finalPath, string fileName, string sha256)
    {
        AtomicFile.Write(finalPath + RecordedSha256Suffix, Encoding.UTF8.GetBytes($"{sha256}  {fileName}\n"));
    }

    /// <summary>The SHA-256 recorded beside a file when it was downloaded, or null when there is no readable record for it.</summary>
    private static async Task<string?> ReadRecordedSha256Async(string path, CancellationToken ct)
    {
        var recordPath = path + RecordedSha256Suffix;
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
            idleTimeout?.CancelAfter(_requestTimeout);
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

    private static async Task<string> Sha256OfFileAsync(string path, CancellationToken ct)
    {
        var stream = OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false));
        }
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);

    private static FileStream CreateNew(string path) =>
        new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);

    // A random part keeps concurrent downloads into one folder from colliding.
    private static string TemporaryPath(string finalPath, string suffix) =>
        $"{finalPath}.{Guid.NewGuid().ToString("N")[..8]}{suffix}";

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

    // Request timeout, too many requests, and server errors may pass; anything else will not.
    private static bool IsTransient(int statusCode) => statusCode is 408 or 429 or >= 500;

    private static string FormatSeconds(TimeSpan value) =>
        value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    private readonly record struct Failure(string Reason, bool IsTransient);
}
