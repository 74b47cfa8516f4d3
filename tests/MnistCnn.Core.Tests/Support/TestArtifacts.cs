namespace MnistCnn.Core.Tests.Support;

/// <summary>The repository the tests run from, and the folder where tests leave figures for CI logs.</summary>
internal static class TestArtifacts
{
    private const string SolutionFile = "MnistCnn.Core.sln";

    /// <summary>Gets the folder holding the solution file, found by walking up from the test assembly.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, SolutionFile)))
                {
                    return folder.FullName;
                }
            }

            throw new InvalidOperationException($"No {SolutionFile} above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>
    /// Writes <paramref name="lines"/> to <c>artifacts/test-results/<paramref name="name"/></c>, replacing it:
    /// dotnet test hides passing tests' output, and CI prints these files.
    /// </summary>
    public static void Write(string name, IEnumerable<string> lines)
    {
        var folder = Path.Combine(RepositoryRoot, "artifacts", "test-results");
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, name), lines);
    }
}
