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
/// Data is written under temporary names in the target folder and renamed only after it is verified and
/// flushed to disk, so
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
public sealed class MnistDownloader
{
    private readonly MnistDatasetInfo _defaultDataset;
    private readonly IReadOnlyList<MnistMirror>? _configuredMirrors;
    private readonly MirrorFetcher _fetcher;
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
        _httpClient = options.HttpClient;
        _httpMessageHandler = options.HttpMessageHandler;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _fetcher = new MirrorFetcher(
            new RetryPolicy(options.RetriesPerMirror, options.RetryDelay), options.RequestTimeout, new VerifiedFileStore(options.RequestTimeout), _logger);
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

        return new MnistDownloadResult { Directory = fullDirectory, DownloadedFiles = downloaded, ExistingFiles = existing };
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

            var expected = file.Sha256 ?? await Sha256Record.ReadAsync(path, cancellationToken).ConfigureAwait(false);
            if (expected is null)
            {
                problems.Add($"{file.Name}: no SHA-256 to check it against ({dataset.Name} has none pinned, and {file.Name}{Sha256Record.Suffix} is missing " +
                    $"or unreadable)");
                continue;
            }

            var actual = await VerifiedFileStore.Sha256OfFileAsync(path, cancellationToken).ConfigureAwait(false);
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
            var expected = file.Sha256 ?? await Sha256Record.ReadAsync(finalPath, ct).ConfigureAwait(false);
            var actual = await VerifiedFileStore.Sha256OfFileAsync(finalPath, ct).ConfigureAwait(false);
            if (actual == expected)
            {
                DownloadLog.AlreadyPresent(_logger, dataset.Name, file.Name, directory);
                return false;
            }

            DownloadLog.ExistingFileInvalid(
                _logger, dataset.Name, file.Name, directory, actual, expected ?? $"none: no {file.Name}{Sha256Record.Suffix} record");
        }

        var failures = new List<MnistMirrorFailure>();

        var handPlacedGzip = finalPath + ".gz";
        if (File.Exists(handPlacedGzip))
        {
            var failure = await _fetcher.TryLocalFileAsync(file, handPlacedGzip, compressed: true, directory, finalPath, progress, ct)
                .ConfigureAwait(false);
            if (failure is null)
            {
                DownloadLog.Obtained(_logger, dataset.Name, file.Name, handPlacedGzip);
                return true;
            }

            DownloadLog.AttemptFailed(_logger, dataset.Name, file.Name, directory, failure.Value.Reason);
            failures.Add(new MnistMirrorFailure { Mirror = directory, Reason = failure.Value.Reason, Attempts = 1 });
        }

        foreach (var mirror in mirrors)
        {
            var failure = mirror.HttpBase is null
                ? await _fetcher.TryLocalMirrorAsync(dataset, file, mirror, finalPath, progress, ct).ConfigureAwait(false)
                : await _fetcher.TryHttpMirrorAsync(dataset, file, mirror, finalPath, client!, progress, ct).ConfigureAwait(false);
            if (failure is null)
            {
                DownloadLog.Obtained(_logger, dataset.Name, file.Name, mirror.Configured);
                return true;
            }

            failures.Add(failure);
        }

        DownloadLog.AllSourcesFailed(_logger, dataset.Name, file.Name, failures.Count);
        throw new MnistDownloadException(dataset.Name, file.Name, directory, failures, dataset.FileNames);
    }
}
