using Microsoft.Extensions.Logging;

namespace MnistCnn.Core.Data.Download;

// Event ids are part of the observable behaviour: keep them stable, add new ones at the end.
public sealed partial class MnistDownloader
{
    [LoggerMessage(EventId = 1, EventName = "MnistFileAlreadyPresent", Level = LogLevel.Information,
        Message = "{Dataset} file {FileName} is already present and verified in {Directory}")]
    private static partial void LogAlreadyPresent(ILogger logger, string dataset, string fileName, string directory);

    [LoggerMessage(EventId = 2, EventName = "MnistFileInvalid", Level = LogLevel.Warning,
        Message = "{Dataset} file {FileName} in {Directory} fails verification (SHA-256 {Actual}, expected {Expected}); fetching it again")]
    private static partial void LogExistingFileInvalid(ILogger logger, string dataset, string fileName, string directory, string actual, string expected);

    [LoggerMessage(EventId = 3, EventName = "MnistFileFetching", Level = LogLevel.Debug,
        Message = "Fetching {Dataset} file {FileName} from {Source} (attempt {Attempt} of {Attempts})")]
    private static partial void LogFetching(ILogger logger, string dataset, string fileName, string source, int attempt, int attempts);

    [LoggerMessage(EventId = 4, EventName = "MnistFileAttemptFailed", Level = LogLevel.Warning,
        Message = "Fetching {Dataset} file {FileName} from {Mirror} failed: {Reason}")]
    private static partial void LogAttemptFailed(ILogger logger, string dataset, string fileName, string mirror, string reason);

    [LoggerMessage(EventId = 5, EventName = "MnistFileRetrying", Level = LogLevel.Information,
        Message = "Retrying {Dataset} file {FileName} from {Mirror} in {Delay}")]
    private static partial void LogRetrying(ILogger logger, string dataset, string fileName, string mirror, TimeSpan delay);

    [LoggerMessage(EventId = 6, EventName = "MnistFileObtained", Level = LogLevel.Information,
        Message = "{Dataset} file {FileName} obtained from {Source} and verified")]
    private static partial void LogObtained(ILogger logger, string dataset, string fileName, string source);

    [LoggerMessage(EventId = 7, EventName = "MnistFileUnavailable", Level = LogLevel.Error,
        Message = "{Dataset} file {FileName} could not be obtained from any of {SourceCount} sources")]
    private static partial void LogAllSourcesFailed(ILogger logger, string dataset, string fileName, int sourceCount);
}
