namespace MnistCnn.Core.Tests.Support;

/// <summary>A fresh, empty folder for one test, deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    /// <summary>Creates the folder under the system's temporary folder.</summary>
    public TempDirectory()
        : this(Directory.CreateTempSubdirectory("mnistcnn-tests-").FullName)
    {
    }

    private TempDirectory(string path)
    {
        Path = path;
    }

    public string Path { get; }

    /// <summary>
    /// Creates the folder under the repository's <c>artifacts/test-work</c> instead: on disk rather than in the
    /// temporary folder (a RAM file system in the Debian 13 root), so that writes and fsync take the time they
    /// take for users and a killed process can be caught inside one.
    /// </summary>
    public static TempDirectory OnDisk()
    {
        var path = System.IO.Path.Combine(RepositoryFolder.Root, "artifacts", "test-work", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return new TempDirectory(path);
    }

    /// <summary>Returns the path of <paramref name="parts"/> inside the folder, creating its parent folders.</summary>
    public string File(params string[] parts)
    {
        var full = System.IO.Path.Combine([Path, .. parts]);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return full;
    }

    /// <summary>Returns the names of the files and folders directly in the folder.</summary>
    public string[] Entries() => [.. Directory.EnumerateFileSystemEntries(Path).Select(System.IO.Path.GetFileName)!];

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
