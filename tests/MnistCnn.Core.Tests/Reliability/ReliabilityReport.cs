using System.Collections.Concurrent;
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

    /// <summary>Records (or replaces) one section and rewrites the file with every section recorded so far.</summary>
    public static void Record(string section, IEnumerable<string> lines, ITestOutputHelper? output = null)
    {
        var text = string.Join(Environment.NewLine, lines.Select(l => "  " + l));
        Sections[section] = text;
        output?.WriteLine($"{section}{Environment.NewLine}{text}");
        lock (FileLock)
        {
            TestArtifacts.Write(
                "reliability.txt",
                [
                    "Reliability figures (tests/MnistCnn.Core.Tests/Reliability; see docs/reliability.md)",
                    .. Sections.OrderBy(s => s.Key, StringComparer.Ordinal).SelectMany(s => new[] { s.Key, s.Value }),
                ]);
        }
    }
}
