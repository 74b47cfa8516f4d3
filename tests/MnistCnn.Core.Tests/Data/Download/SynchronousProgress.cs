namespace MnistCnn.Core.Tests.Data.Download;

/// <summary>Reports on the caller's thread, unlike <see cref="Progress{T}"/>, so tests see every report in order.</summary>
internal sealed class SynchronousProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}
