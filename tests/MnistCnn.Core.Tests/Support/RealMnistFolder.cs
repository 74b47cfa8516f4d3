namespace MnistCnn.Core.Tests.Support;

/// <summary>Where the real MNIST files are for real-data tests (put there by <c>./build.sh data</c>).</summary>
internal static class RealMnistFolder
{
    public const string HowToGetThem = "run ./build.sh data to download and verify the real MNIST files";

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

            return System.IO.Path.Combine(RepositoryFolder.Root, "data", "mnist");
        }
    }
}
