namespace MnistCnn.Samples.Web.Tests;

/// <summary>Figures the tests measured, kept in artifacts/web/&lt;name&gt;.txt (dotnet test hides passing tests' output).</summary>
internal static class Figures
{
    public static void Write(string name, string line) =>
        File.WriteAllText(Path.Combine(Repository.ArtifactsFolder, name + ".txt"), line + Environment.NewLine);
}
