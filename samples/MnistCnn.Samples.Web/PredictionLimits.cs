namespace MnistCnn.Samples.Web;

/// <summary>
/// What <c>POST /api/predict</c> and <c>POST /api/predict/batch</c> accept, bound from the <c>Limits</c> configuration section
/// (appsettings.json, or the command line: <c>--Limits:MaxBodyBytes 1048576</c>). Anything larger is
/// refused with a problem detail before it costs memory: the body is read no further than the limit,
/// and an image's declared dimensions are checked before a single pixel is decoded.
/// </summary>
internal sealed class PredictionLimits
{
    /// <summary>The configuration section the limits are read from.</summary>
    public const string SectionName = "Limits";

    /// <summary>Largest pixel count allowed at all: its RGBA decoding must fit one .NET array.</summary>
    public const long PixelCeiling = 128L * 1024 * 1024;

    /// <summary>Largest image file accepted, in bytes. Default 4 MiB (4,194,304); larger bodies get 413.</summary>
    public long MaxBodyBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>Widest and tallest image accepted, in pixels. Default 8192; larger images get 422.</summary>
    public int MaxSide { get; set; } = 8192;

    /// <summary>
    /// Most pixels (width x height) accepted. Default 16,777,216 (16 MP, 4096 x 4096: 64 MiB while
    /// decoded); larger images get 422. At most <see cref="PixelCeiling"/>.
    /// </summary>
    public long MaxPixels { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// Most pixels decoded at once across all requests. Default 33,554,432 (32 MP: two images at the default
    /// pixel limit); at least <see cref="MaxPixels"/>. An image is decoded only when its pixels fit beside
    /// those being decoded; until then its request waits (images of at most 1/64 of it are not counted, see
    /// <see cref="DecodingBudget"/>). Decoding costs 4 bytes a pixel (the decoder's RGBA, turned to grey in
    /// place), so this bounds decoding memory (128 MiB by default) whatever arrives at once.
    /// </summary>
    public long MaxDecodingPixels { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// Largest request body Kestrel reads at all, in bytes. Default 67,108,864 (64 MiB); at least
    /// <see cref="MaxBodyBytes"/> plus the multipart overhead. A body over <see cref="MaxBodyBytes"/> gets
    /// 413 without being read (or, without a Content-Length, as soon as the limit is passed); Kestrel then
    /// reads and discards the rest, up to this size and for at most 5 s, so a client that sends its whole
    /// body before reading the answer still gets the 413. Beyond it the connection is closed.
    /// </summary>
    public long MaxRequestBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Most connections open at once (Kestrel's <c>MaxConcurrentConnections</c>). Default 128; more are closed
    /// as they arrive. Each holds at most <see cref="MaxBodyBytes"/> of body and a small image being decoded,
    /// so with <see cref="MaxDecodingPixels"/> this bounds the server's memory.
    /// </summary>
    public long MaxConnections { get; set; } = 128;

    /// <summary>
    /// Most images in one <c>POST /api/predict/batch</c>. Default 1024; more get 413. A raw batch of MNIST rows is
    /// at most this many x 784 bytes.
    /// </summary>
    public int MaxBatchImages { get; set; } = 1024;

    /// <summary>
    /// Largest multipart body of <c>POST /api/predict/batch</c>, in bytes (all files with their part headers and
    /// boundaries). Default 16,777,216 (16 MiB); larger bodies get 413. Each file is also held to <see cref="MaxBodyBytes"/>.
    /// </summary>
    public long MaxBatchBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Longest request target (path and query), in bytes. Default 8192; longer gets 414.</summary>
    public int MaxRequestTargetBytes { get; set; } = 8192;

    /// <summary>Most bytes of request headers ("name: value" lines). Default 32,768; more gets 431.</summary>
    public int MaxRequestHeaderBytes { get; set; } = 32 * 1024;

    /// <summary>Most request header fields. Default 100; more gets 431.</summary>
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>
    /// Kestrel's own request line and header limits are this many times the ones above: Kestrel refuses with an
    /// empty body, so the app checks the limits itself (and answers with a problem detail), and Kestrel's
    /// refusal only meets requests far beyond them.
    /// </summary>
    public const int KestrelLimitFactor = 4;

    /// <summary>Room for a multipart form's boundaries and part headers beside the file itself.</summary>
    public const long MultipartOverheadBytes = 64 * 1024;

    /// <summary>The first setting that is out of range, described; <see langword="null"/> when all are valid.</summary>
    public string? Problem() => this switch
    {
        { MaxBodyBytes: <= 0 } => $"Limits:MaxBodyBytes must be positive (got {MaxBodyBytes})",
        { MaxSide: <= 0 } => $"Limits:MaxSide must be positive (got {MaxSide})",
        { MaxPixels: <= 0 or > PixelCeiling } => $"Limits:MaxPixels must be between 1 and {PixelCeiling} (got {MaxPixels})",
        { MaxConnections: <= 0 } => $"Limits:MaxConnections must be positive (got {MaxConnections})",
        { MaxBatchImages: <= 0 } => $"Limits:MaxBatchImages must be positive (got {MaxBatchImages})",
        { MaxBatchBytes: <= 0 } => $"Limits:MaxBatchBytes must be positive (got {MaxBatchBytes})",
        { MaxRequestTargetBytes: < 256 or > 1024 * 1024 } => $"Limits:MaxRequestTargetBytes must be between 256 and 1048576 (got {MaxRequestTargetBytes})",
        { MaxRequestHeaderBytes: < 1024 or > 1024 * 1024 } => $"Limits:MaxRequestHeaderBytes must be between 1024 and 1048576 (got {MaxRequestHeaderBytes})",
        { MaxRequestHeaderCount: < 8 or > 10_000 } => $"Limits:MaxRequestHeaderCount must be between 8 and 10000 (got {MaxRequestHeaderCount})",
        _ when MaxDecodingPixels < MaxPixels => $"Limits:MaxDecodingPixels must be at least Limits:MaxPixels ({MaxPixels}) (got {MaxDecodingPixels})",
        _ when MaxRequestBytes < MaxBodyBytes + MultipartOverheadBytes =>
            $"Limits:MaxRequestBytes must be at least Limits:MaxBodyBytes + {MultipartOverheadBytes} ({MaxBodyBytes + MultipartOverheadBytes}) (got {MaxRequestBytes})",
        _ when MaxRequestBytes < MaxBatchBytes =>
            $"Limits:MaxRequestBytes must be at least Limits:MaxBatchBytes ({MaxBatchBytes}) (got {MaxRequestBytes})",
        _ when MaxRequestBytes < (long)MaxBatchImages * 784 =>
            $"Limits:MaxRequestBytes must be at least Limits:MaxBatchImages x 784 ({(long)MaxBatchImages * 784}) (got {MaxRequestBytes})",
        _ => null,
    };
}
