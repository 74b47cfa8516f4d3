using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Web;

/// <summary>
/// Which model answers: its name (the weights file's name, or <c>pretrained</c>), its architecture and the
/// SHA-256 of the weights file's bytes. Shown on <c>/readyz</c> and in every answer's
/// <see cref="ModelIdentity.ShaHeader"/> header.
/// </summary>
/// <param name="Name">The weights file's name, or <c>pretrained</c> for the package's own model.</param>
/// <param name="Architecture">The network the classifier runs (<see cref="DigitClassifier.Architecture"/>: <c>LeNet</c>, <c>ConvNet</c>).</param>
/// <param name="Sha256">The SHA-256 of the weights file's bytes, lower-case hex.</param>
internal sealed record ModelIdentity(string Name, string Architecture, string Sha256)
{
    /// <summary>The response header that names the model an answer came from.</summary>
    public const string ShaHeader = "X-Model-Sha256";

    /// <summary>The name of the package's own model.</summary>
    public const string PretrainedName = "pretrained";

    private const string PretrainedResourceSuffix = ".safetensors";

    /// <summary>The identity of a classifier loaded from a file whose bytes were <paramref name="file"/>.</summary>
    public static ModelIdentity Of(DigitClassifier classifier, string path, ReadOnlySpan<byte> file) =>
        new(Path.GetFileName(path), classifier.Architecture, Convert.ToHexStringLower(SHA256.HashData(file)));

    /// <summary>
    /// The identity of <see cref="DigitClassifier.Pretrained"/>: the hash of the weights file embedded in the
    /// package that it was loaded from, found among the package's <c>.safetensors</c> resources as the one
    /// whose <c>__metadata__</c> is the classifier's.
    /// </summary>
    public static ModelIdentity Pretrained(DigitClassifier classifier)
    {
        var assembly = typeof(DigitClassifier).Assembly;
        var files = assembly.GetManifestResourceNames()
            .Where(n => n.EndsWith(PretrainedResourceSuffix, StringComparison.Ordinal))
            .Select(n => ReadResource(assembly, n))
            .Where(file => SameMetadata(MetadataOf(file), classifier.Metadata))
            .ToList();
        if (files.Count != 1)
        {
            throw new InvalidOperationException(
                $"Expected one embedded weights file in {assembly.GetName().Name} with the pretrained model's metadata, found {files.Count}: its hash cannot be taken.");
        }

        return new(PretrainedName, classifier.Architecture, Convert.ToHexStringLower(SHA256.HashData(files[0])));
    }

    private static byte[] ReadResource(System.Reflection.Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    // A safetensors file: an 8-byte little-endian header length, then the JSON header, whose optional
    // "__metadata__" maps strings to strings.
    private static Dictionary<string, string> MetadataOf(byte[] file)
    {
        var metadata = new Dictionary<string, string>();
        var length = file.Length < 8 ? ulong.MaxValue : BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (length > (ulong)(file.Length - 8))
        {
            return metadata;
        }

        using var header = JsonDocument.Parse(file.AsMemory(8, (int)length));
        if (header.RootElement.TryGetProperty("__metadata__", out var entries) && entries.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in entries.EnumerateObject())
            {
                metadata[entry.Name] = entry.Value.GetString() ?? "";
            }
        }

        return metadata;
    }

    private static bool SameMetadata(Dictionary<string, string> file, IReadOnlyDictionary<string, string> classifier) =>
        file.Count == classifier.Count && file.All(entry => classifier.TryGetValue(entry.Key, out var value) && value == entry.Value);
}
