namespace MnistCnn.Core.Data.Download;

/// <summary>Settings of <see cref="MnistDownloader"/>. Every setter validates its value.</summary>
public sealed class MnistDownloadOptions
{
    /// <summary>Largest value accepted by <see cref="RetriesPerMirror"/>.</summary>
    public const int MaxRetriesPerMirror = 10;

    // CancellationTokenSource.CancelAfter accepts at most int.MaxValue milliseconds.
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(int.MaxValue);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(5);

    private IReadOnlyList<string>? _mirrors;
    private TimeSpan _requestTimeout = TimeSpan.FromSeconds(60);
    private int _retriesPerMirror = 2;
    private TimeSpan _retryDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The MNIST mirrors torchvision uses, in its order: <c>https://ossci-datasets.s3.amazonaws.com/mnist/</c>
    /// first (the other one has often been unavailable), then <c>http://yann.lecun.com/exdb/mnist/</c>.
    /// The same list as <see cref="MnistDatasetInfo.DefaultMirrors"/> of <see cref="MnistDatasetInfo.Mnist"/>.
    /// </summary>
    public static IReadOnlyList<string> DefaultMirrors { get; } =
    [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ];

    /// <summary>
    /// Where to fetch each file from, tried in order until one provides a verified copy; or
    /// <see langword="null"/> (the default) for the mirrors of the data set being fetched
    /// (<see cref="MnistDatasetInfo.DefaultMirrors"/>: for MNIST, <see cref="DefaultMirrors"/>).
    /// </summary>
    /// <remarks>
    /// Each entry is an <c>http://</c> or <c>https://</c> URL (the downloader fetches the URL followed by
    /// <c>&lt;name&gt;.gz</c>), a <c>file://</c> URI or a local folder path (the downloader takes
    /// <c>&lt;name&gt;.gz</c> from it, or else the decompressed <c>&lt;name&gt;</c>). A list set here is used
    /// for every data set the downloader fetches, so give each data set its own options when mirroring several.
    /// </remarks>
    /// <exception cref="ArgumentException">The list is empty, or an entry is blank or has a scheme other than http, https or file.</exception>
    public IReadOnlyList<string>? Mirrors
    {
        get => _mirrors;
        set
        {
            if (value is null)
            {
                _mirrors = null;
                return;
            }

            if (value.Count == 0)
            {
                throw new ArgumentException("At least one mirror is required (null selects the data set's own mirrors).", nameof(value));
            }

            foreach (var mirror in value)
            {
                if (string.IsNullOrWhiteSpace(mirror))
                {
                    throw new ArgumentException("A mirror must not be null, empty or blank.", nameof(value));
                }

                if (!MnistMirror.IsSupported(mirror))
                {
                    throw new ArgumentException(
                        $"Mirror '{mirror}' is not an http, https or file URI nor a local folder path.", nameof(value));
                }
            }

            // A private copy: later changes to the caller's list must not bypass validation.
            _mirrors = [.. value];
        }
    }

    /// <summary>
    /// How long one attempt may wait for a mirror to answer, and then for each further chunk of data.
    /// Default: 60 seconds. <see cref="Timeout.InfiniteTimeSpan"/> disables the limit.
    /// </summary>
    /// <remarks>
    /// The limit applies to silence, not to the whole transfer, so a slow but steady connection is not cut
    /// off. An <see cref="HttpClient"/> passed in <see cref="HttpClient"/> also applies its own
    /// <see cref="HttpClient.Timeout"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative (other than infinite), or longer than about 24.8 days.</exception>
    public TimeSpan RequestTimeout
    {
        get => _requestTimeout;
        set
        {
            if (value != Timeout.InfiniteTimeSpan && (value <= TimeSpan.Zero || value > MaxTimeout))
            {
                throw new ArgumentOutOfRangeException(
                    nameof(value), value, "The request timeout must be positive (at most int.MaxValue ms) or Timeout.InfiniteTimeSpan.");
            }

            _requestTimeout = value;
        }
    }

    /// <summary>
    /// How many times a mirror is tried again after a transient failure (timeout, connection error,
    /// HTTP 408, 429 or 5xx) before moving on to the next mirror. Default: 2; range 0 to
    /// <see cref="MaxRetriesPerMirror"/>.
    /// </summary>
    /// <remarks>A missing file (HTTP 404) or a hash mismatch moves on at once: retrying would not help.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or above <see cref="MaxRetriesPerMirror"/>.</exception>
    public int RetriesPerMirror
    {
        get => _retriesPerMirror;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxRetriesPerMirror);
            _retriesPerMirror = value;
        }
    }

    /// <summary>
    /// Wait before the first retry of a mirror; each further retry waits twice as long as the previous one.
    /// Default: 1 second; range zero to 5 minutes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than 5 minutes.</exception>
    public TimeSpan RetryDelay
    {
        get => _retryDelay;
        set
        {
            if (value < TimeSpan.Zero || value > MaxRetryDelay)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The retry delay must be between zero and 5 minutes.");
            }

            _retryDelay = value;
        }
    }

    /// <summary>
    /// The client used for http and https mirrors, or <see langword="null"/> (default) to create one per
    /// download. The downloader never disposes a client it was given. Takes precedence over
    /// <see cref="HttpMessageHandler"/>.
    /// </summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>
    /// The handler for a client the downloader creates (e.g. to set a proxy), or <see langword="null"/>
    /// (default) for the platform's default handler. Ignored when <see cref="HttpClient"/> is set. The
    /// downloader never disposes a handler it was given.
    /// </summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }
}
