namespace MnistCnn.Samples.Wasm.Tests;

/// <summary>Figures the tests measured, kept in artifacts/wasm/results/&lt;name&gt;.txt (dotnet test hides passing tests' output).</summary>
internal static class Figures
{
    public static void Write(string name, IEnumerable<string> lines) =>
        File.WriteAllLines(Path.Combine(Repository.ResultsFolder, name + ".txt"), lines);
}
