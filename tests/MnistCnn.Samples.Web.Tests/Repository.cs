namespace MnistCnn.Samples.Web.Tests;

/// <summary>Folders of the repository the tests run from.</summary>
internal static class Repository
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

    /// <summary>
    /// Gets the real MNIST files' folder: <c>MNISTCNN_DATA_DIR</c> when set, else <c>data/mnist</c>
    /// (./build.sh web-test puts them there).
    /// </summary>
    public static string MnistFolder =>
        Environment.GetEnvironmentVariable("MNISTCNN_DATA_DIR") is { Length: > 0 } folder
            ? Path.GetFullPath(folder)
            : Path.Combine(Root, "data", "mnist");

    /// <summary>Gets <c>artifacts/web</c>, created: screenshots and the figures the tests measured.</summary>
    public static string ArtifactsFolder => Directory.CreateDirectory(Path.Combine(Root, "artifacts", "web")).FullName;
}
