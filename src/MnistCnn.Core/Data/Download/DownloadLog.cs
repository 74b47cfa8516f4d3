using Microsoft.Extensions.Logging;

namespace MnistCnn.Core.Data.Download;

/// <summary>The downloader's log events, written to <see cref="MnistDownloader"/>'s logger by each of its parts.</summary>
// Event ids are part of the observable behaviour: keep them stable, add new ones at the end.
internal static partial class DownloadLog
{
    [LoggerMessage(EventId = 1, EventName = "MnistFileAlreadyPresent", Level = LogLevel.Information,
        Message = "{Dataset} file {FileName} is already present and verified in {Directory}")]
    internal static partial void AlreadyPresent(ILogger logger, string dataset, string fileName, string directory);

    [LoggerMessage(EventId = 2, EventName = "MnistFileInvalid", Level = LogLevel.Warning,
        Message = "{Dataset} file {FileName} in {Directory} fails verification (SHA-256 {Actual}, expected {Expected}); fetching it again")]
    internal static partial void ExistingFileInvalid(ILogger logger, string dataset, string fileName, string directory, string actual, string expected);

    [LoggerMessage(EventId = 3, EventName = "MnistFileFetching", Level = LogLevel.Debug,
        Message = "Fetching {Dataset} file {FileName} from {Source} (attempt {Attempt} of {Attempts})")]
    internal static partial void Fetching(ILogger logger, string dataset, string fileName, string source, int attempt, int attempts);

    [LoggerMessage(EventId = 4, EventName = "MnistFileAttemptFailed", Level = LogLevel.Warning,
        Message = "Fetching {Dataset} file {FileName} from {Mirror} failed: {Reason}")]
    internal static partial void AttemptFailed(ILogger logger, string dataset, string fileName, string mirror, string reason);

    [LoggerMessage(EventId = 5, EventName = "MnistFileRetrying", Level = LogLevel.Information,
        Message = "Retrying {Dataset} file {FileName} from {Mirror} in {Delay}")]
    internal static partial void Retrying(ILogger logger, string dataset, string fileName, string mirror, TimeSpan delay);

    [LoggerMessage(EventId = 6, EventName = "MnistFileObtained", Level = LogLevel.Information,
        Message = "{Dataset} file {FileName} obtained from {Source} and verified")]
    internal static partial void Obtained(ILogger logger, string dataset, string fileName, string source);

    [LoggerMessage(EventId = 7, EventName = "MnistFileUnavailable", Level = LogLevel.Error,
        Message = "{Dataset} file {FileName} could not be obtained from any of {SourceCount} sources")]
    internal static partial void AllSourcesFailed(ILogger logger, string dataset, string fileName, int sourceCount);
}
