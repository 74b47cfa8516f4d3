namespace MnistCnn.Core.Tests.Support;

/// <summary>The folder where tests leave figures for CI logs.</summary>
internal static class TestArtifacts
{
    /// <summary>
    /// Writes <paramref name="lines"/> to <c>artifacts/test-results/<paramref name="name"/></c>, replacing it:
    /// dotnet test hides passing tests' output, and CI prints these files.
    /// </summary>
    public static void Write(string name, IEnumerable<string> lines)
    {
        var folder = Path.Combine(RepositoryFolder.Root, "artifacts", "test-results");
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, name), lines);
    }
}
