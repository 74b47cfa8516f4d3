namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// A fresh folder under the repository's <c>artifacts/reliability-work</c>, deleted on dispose. On disk
/// rather than in the temporary folder (a RAM file system in the Debian 13 root), so that writes and fsync
/// take the time they take for users and a kill can land inside one.
/// </summary>
internal sealed class WorkFolder : IDisposable
{
    public WorkFolder()
    {
        Path = System.IO.Path.Combine(ReliabilityReport.RepositoryRoot, "artifacts", "reliability-work", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts)
    {
        var full = System.IO.Path.Combine([Path, .. parts]);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return full;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
