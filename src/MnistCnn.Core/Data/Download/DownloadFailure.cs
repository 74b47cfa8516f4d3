namespace MnistCnn.Core.Data.Download;

/// <summary>Why one attempt to obtain a file failed, and whether trying the same source again may help.</summary>
internal readonly record struct DownloadFailure(string Reason, bool IsTransient);
