namespace MnistCnn.Core.Tests.Support;

/// <summary>The repository the tests run from; the one finder every test project links (their project files).</summary>
internal static class RepositoryFolder
{
    private const string SolutionFile = "MnistCnn.Core.sln";

    /// <summary>Gets the folder holding the solution file, found by walking up from the test assembly.</summary>
    public static string Root
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
}
