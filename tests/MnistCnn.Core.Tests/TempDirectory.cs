namespace MnistCnn.Core.Tests;

/// <summary>A fresh folder under the system's temporary folder, deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("mnistcnn-tests-").FullName;
    }

    public string Path { get; }

    /// <summary>Returns the path of <paramref name="relative"/> inside the folder, creating its parent folders.</summary>
    public string File(string relative)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return full;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
