using System.Collections.Concurrent;
using System.Text;
using Xunit.Abstractions;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// Collects the figures of the reliability tests and writes them to
/// <c>artifacts/test-results/reliability.txt</c> (dotnet test hides a passing test's output; CI prints the file).
/// </summary>
internal static class ReliabilityReport
{
    private static readonly ConcurrentDictionary<string, string> Sections = new(StringComparer.Ordinal);
    private static readonly Lock FileLock = new();

    /// <summary>The repository root: the first folder above the test assembly holding MnistCnn.Core.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>Records (or replaces) one section and rewrites the file with every section recorded so far.</summary>
    public static void Record(string section, IEnumerable<string> lines, ITestOutputHelper? output = null)
    {
        var text = string.Join(Environment.NewLine, lines.Select(l => "  " + l));
        Sections[section] = text;
        output?.WriteLine($"{section}{Environment.NewLine}{text}");
        lock (FileLock)
        {
            var folder = Path.Combine(RepositoryRoot, "artifacts", "test-results");
            Directory.CreateDirectory(folder);
            var content = new StringBuilder("Reliability figures (tests/MnistCnn.Core.Tests/Reliability; see docs/reliability.md)").AppendLine();
            foreach (var (name, body) in Sections.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                content.AppendLine(name).AppendLine(body);
            }

            File.WriteAllText(Path.Combine(folder, "reliability.txt"), content.ToString());
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "MnistCnn.Core.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No MnistCnn.Core.sln above {AppContext.BaseDirectory}.");
    }
}
