using System.Security.Cryptography;
using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Web;

/// <summary>
/// Which model answers: its name (the weights file's name, or <c>pretrained</c>), its architecture and the
/// SHA-256 of the weights file's bytes. Shown on <c>/readyz</c> and in every answer's
/// <see cref="ModelIdentity.ShaHeader"/> header.
/// </summary>
/// <param name="Name">The weights file's name, or <c>pretrained</c> for the package's own model.</param>
/// <param name="Architecture">The network: the file's safetensors <c>__metadata__</c> entry <c>architecture</c>, else <c>ConvNet</c>.</param>
/// <param name="Sha256">The SHA-256 of the weights file's bytes, lower-case hex.</param>
internal sealed record ModelIdentity(string Name, string Architecture, string Sha256)
{
    /// <summary>The response header that names the model an answer came from.</summary>
    public const string ShaHeader = "X-Model-Sha256";

    /// <summary>The name of the package's own model.</summary>
    public const string PretrainedName = "pretrained";

    // Files written before architectures were recorded hold the case-study network.
    private const string DefaultArchitecture = "ConvNet";
    private const string ArchitectureKey = "architecture";
    private const string PretrainedResourceSuffix = ".safetensors";

    /// <summary>The identity of a classifier loaded from a file whose bytes were <paramref name="file"/>.</summary>
    public static ModelIdentity Of(DigitClassifier classifier, string path, ReadOnlySpan<byte> file) =>
        new(Path.GetFileName(path), ArchitectureOf(classifier), Convert.ToHexStringLower(SHA256.HashData(file)));

    /// <summary>
    /// The identity of <see cref="DigitClassifier.Pretrained"/>: the hash of the weights file embedded in the
    /// package (its one <c>.safetensors</c> resource).
    /// </summary>
    public static ModelIdentity Pretrained(DigitClassifier classifier)
    {
        var assembly = typeof(DigitClassifier).Assembly;
        var resources = assembly.GetManifestResourceNames().Where(n => n.EndsWith(PretrainedResourceSuffix, StringComparison.Ordinal)).ToList();
        if (resources.Count != 1)
        {
            throw new InvalidOperationException(
                $"Expected one embedded weights file in {assembly.GetName().Name}, found {resources.Count}: the pretrained model's hash cannot be taken.");
        }

        using var stream = assembly.GetManifestResourceStream(resources[0])!;
        return new(PretrainedName, ArchitectureOf(classifier), Convert.ToHexStringLower(SHA256.HashData(stream)));
    }

    private static string ArchitectureOf(DigitClassifier classifier) =>
        classifier.Metadata.TryGetValue(ArchitectureKey, out var architecture) && !string.IsNullOrWhiteSpace(architecture)
            ? architecture
            : DefaultArchitecture;
}
