using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Samples.Wasm.Tests;

/// <summary>Folders and files of the repository the tests use.</summary>
internal static class Repository
{
    /// <summary>Gets the folder holding the solution file (<see cref="RepositoryFolder"/>).</summary>
    public static string Root => RepositoryFolder.Root;

    /// <summary>
    /// Gets the published app's static files: <c>MNISTCNN_WASM_APP</c> when set, else
    /// <c>artifacts/wasm/app/wwwroot</c>, where ./build.sh wasm-test publishes it.
    /// </summary>
    public static string AppFolder =>
        Environment.GetEnvironmentVariable("MNISTCNN_WASM_APP") is { Length: > 0 } folder
            ? Path.GetFullPath(folder)
            : Path.Combine(Root, "artifacts", "wasm", "app", "wwwroot");

    /// <summary>Gets the static file server, built with the tests (eng/MnistCnn.StaticHost).</summary>
    public static string StaticHost => Path.Combine(Root, "eng", "MnistCnn.StaticHost", "bin",
#if DEBUG
        "Debug",
#else
        "Release",
#endif
        "net10.0", "MnistCnn.StaticHost.dll");

    /// <summary>Gets <c>artifacts/wasm/results</c>, created: screenshots and the figures the tests measured.</summary>
    public static string ResultsFolder => Directory.CreateDirectory(Path.Combine(Root, "artifacts", "wasm", "results")).FullName;
}
