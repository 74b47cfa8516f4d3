namespace MnistCnn.Core.Tests;

/// <summary>Where the real MNIST files are for real-data tests (put there by <c>./build.sh data</c>).</summary>
internal static class RealMnistFolder
{
    public const string HowToGetThem = "run ./build.sh data to download and verify the real MNIST files";

    private const string SolutionFile = "MnistCnn.Core.sln";

    /// <summary>
    /// <c>MNISTCNN_DATA_DIR</c> when set (the folder holding the four files), else <c>data/mnist</c> in the
    /// repository found by walking up from the test assembly to the folder with the solution file.
    /// </summary>
    public static string Path
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("MNISTCNN_DATA_DIR");
            if (!string.IsNullOrWhiteSpace(fromEnvironment))
            {
                return System.IO.Path.GetFullPath(fromEnvironment);
            }

            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(folder.FullName, SolutionFile)))
                {
                    return System.IO.Path.Combine(folder.FullName, "data", "mnist");
                }
            }

            throw new InvalidOperationException(
                $"No {SolutionFile} above {AppContext.BaseDirectory}: set MNISTCNN_DATA_DIR to the folder holding the MNIST files, or {HowToGetThem}.");
        }
    }
}
