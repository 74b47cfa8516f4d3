namespace MnistCnn.Samples.Web;

/// <summary>The sample's log messages (source-generated, stable event ids).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Serving the digit classifier {Model} ({Architecture}, SHA-256 {Sha256})")]
    public static partial void ModelLoaded(this ILogger logger, string model, string architecture, string sha256);

    [LoggerMessage(2, LogLevel.Trace, "{Width}x{Height} image: digit {Digit} ({Confidence:P1}) in {Milliseconds:F1} ms")]
    public static partial void Predicted(this ILogger logger, int width, int height, int digit, double confidence, double milliseconds);

    [LoggerMessage(3, LogLevel.Trace, "Refused with {Status}: {Reason}")]
    public static partial void Rejected(this ILogger logger, int status, string reason);

    [LoggerMessage(4, LogLevel.Information, "Reloaded the model: now {Model} ({Architecture}, SHA-256 {Sha256}), was {PreviousSha256}")]
    public static partial void ModelReloaded(this ILogger logger, string model, string architecture, string sha256, string previousSha256);

    [LoggerMessage(5, LogLevel.Error, "The replacement weights file {File} was not loaded; still serving SHA-256 {Sha256}: {Reason}")]
    public static partial void ReloadFailed(this ILogger logger, string file, string reason, string sha256);

    [LoggerMessage(6, LogLevel.Information, "Watching {File}: replacing it (by rename) reloads the model")]
    public static partial void WatchingModel(this ILogger logger, string file);

    [LoggerMessage(7, LogLevel.Warning, "The watcher of {File} failed ({Reason}); the file is still checked every few seconds")]
    public static partial void WatcherFailed(this ILogger logger, string file, string reason);

    [LoggerMessage(8, LogLevel.Debug, "{Method} {Path} {Status} in {Milliseconds:F2} ms")]
    public static partial void Request(this ILogger logger, string method, string path, int status, double milliseconds);

    [LoggerMessage(9, LogLevel.Information, "{Requests} requests in {Seconds:F0} s ({Rate:F0}/s); refusals by status: {Refusals}; latency p50 {P50:F2} ms, p99 {P99:F2} ms")]
    public static partial void Summary(this ILogger logger, long requests, double seconds, double rate, string refusals, double p50, double p99);
}
