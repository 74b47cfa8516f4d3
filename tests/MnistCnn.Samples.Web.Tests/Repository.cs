using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>Folders of the repository the tests run from.</summary>
internal static class Repository
{
    /// <summary>Gets the folder holding the solution file (<see cref="RepositoryFolder"/>).</summary>
    public static string Root => RepositoryFolder.Root;

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
