using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Core.Tests.Style;

/// <summary>
/// The two house rules on the library's sources that no Roslyn rule checks: lines of at most
/// <see cref="MaxLineLength"/> characters, and <c>using</c> directives in order (System first, then the others
/// alphabetically; <c>using static</c> after them, aliases last). A failure names every offending file:line.
/// </summary>
public sealed class SourceStyleTests
{
    private const int MaxLineLength = 160;

    [Fact]
    public void LibrarySources_EveryLine_IsAtMost160Characters()
    {
        var offenders = Sources()
            .SelectMany(file => Lines(file).Select((line, i) => (file, number: i + 1, line)))
            .Where(l => l.line.Length > MaxLineLength)
            .Select(l => $"{Relative(l.file)}:{l.number}: {l.line.Length} characters")
            .ToList();

        offenders.Should().BeEmpty($"lines in src/ are at most {MaxLineLength} characters");
    }

    [Fact]
    public void LibrarySources_UsingDirectives_AreInOrder()
    {
        var offenders = new List<string>();
        foreach (var file in Sources())
        {
            var usings = Lines(file)
                .Select((line, i) => (line, number: i + 1))
                .Where(l => l.line.StartsWith("using ", StringComparison.Ordinal) && l.line.EndsWith(';') && !l.line.Contains('('))
                .ToList();
            for (var i = 1; i < usings.Count; i++)
            {
                if (Compare(usings[i - 1].line, usings[i].line) > 0)
                {
                    offenders.Add($"{Relative(file)}:{usings[i].number}: '{usings[i].line}' comes after '{usings[i - 1].line}'");
                }
            }
        }

        offenders.Should().BeEmpty("using directives are sorted: System first, then alphabetically, static ones and aliases after");
    }

    [Theory]
    [InlineData("using System;", "using MnistCnn.Core.Data;")]
    [InlineData("using MnistCnn.Core.Data;", "using MnistCnn.Core.Data.Download;")]
    [InlineData("using Microsoft.Extensions.Logging;", "using MnistCnn.Core.Data;")]
    [InlineData("using MnistCnn.Core.Models;", "using static TorchSharp.torch;")]
    [InlineData("using static TorchSharp.torch;", "using Tensor = TorchSharp.torch.Tensor;")]
    public void Compare_OrderedPair_IsInOrderAndTheReverseIsNot(string first, string second)
    {
        Compare(first, second).Should().BeNegative();
        Compare(second, first).Should().BePositive();
    }

    private static int Compare(string a, string b)
    {
        var (x, y) = (Key(a), Key(b));
        return x.Kind != y.Kind ? x.Kind.CompareTo(y.Kind)
            : x.System != y.System ? x.System.CompareTo(y.System)
            : string.CompareOrdinal(x.Name, y.Name);
    }

    private static (int Kind, int System, string Name) Key(string directive)
    {
        var body = directive["using ".Length..^1];
        var kind = body.StartsWith("static ", StringComparison.Ordinal) ? 1 : body.Contains('=') ? 2 : 0;
        var name = kind == 1 ? body["static ".Length..] : body;
        var system = name == "System" || name.StartsWith("System.", StringComparison.Ordinal) ? 0 : 1;
        return (kind, system, name.ToUpperInvariant());
    }

    private static IEnumerable<string> Sources()
    {
        var root = Path.Combine(RepositoryFolder.Root, "src");
        return Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .Order(StringComparer.Ordinal);
    }

    private static string[] Lines(string file) => File.ReadAllLines(file);

    private static string Relative(string file) => Path.GetRelativePath(RepositoryFolder.Root, file);
}
