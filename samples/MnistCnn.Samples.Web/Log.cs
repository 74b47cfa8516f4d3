namespace MnistCnn.Samples.Web;

/// <summary>The sample's log messages (source-generated, stable event ids).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Serving the digit classifier with {Model}")]
    public static partial void ModelLoaded(this ILogger logger, string model);

    [LoggerMessage(2, LogLevel.Information, "{Width}x{Height} image: digit {Digit} ({Confidence:P1}) in {Milliseconds:F1} ms")]
    public static partial void Predicted(this ILogger logger, int width, int height, int digit, double confidence, double milliseconds);

    [LoggerMessage(3, LogLevel.Information, "Refused with {Status}: {Reason}")]
    public static partial void Rejected(this ILogger logger, int status, string reason);
}
