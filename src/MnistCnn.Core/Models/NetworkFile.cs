using System.Runtime.InteropServices;
using MnistCnn.Core.Engine;

namespace MnistCnn.Core.Models;

/// <summary>
/// An engine network's weights in a safetensors file: the architecture's name in <c>__metadata__</c>
/// (<see cref="ArchitectureKey"/>), and exactly the description's tensors, float32, with PyTorch's names and shapes.
/// </summary>
internal static class NetworkFile
{
    /// <summary>The <c>__metadata__</c> key that names the architecture (<c>ConvNet</c>, <c>LeNet</c>).</summary>
    public const string ArchitectureKey = "architecture";

    /// <summary>The largest weights file read: the known architectures' files are at most a few MB.</summary>
    public const long MaxFileBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Takes an engine network's weights out of a parsed file. The architecture is the one <c>__metadata__</c>
    /// names; a file without the key (written by PyTorch, or before the key existed) is taken for the known
    /// architecture whose tensors it holds exactly.
    /// </summary>
    /// <exception cref="ModelFileException">The named architecture is unknown; a tensor is missing, extra, or of
    /// another dtype or shape; or a weight is NaN or infinite. Nothing is returned half-read.</exception>
    public static NetworkWeights Read(SafeTensorsFile file)
    {
        var description = Identify(file);
        var missing = description.Parameters.Where(p => !file.TryGetEntry(p.Name, out _)).Select(p => p.Name).ToArray();
        var unexpected = file.Entries.Select(e => e.Name).Where(n => !description.Parameters.Any(p => p.Name == n)).ToArray();
        if (missing.Length > 0 || unexpected.Length > 0)
        {
            throw new ModelFileException(file.Source,
                $"does not hold {description.Name}'s weights: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]. " +
                $"It was saved from another architecture (expected {description.ParameterText}).");
        }

        foreach (var parameter in description.Parameters)
        {
            file.TryGetEntry(parameter.Name, out var entry);
            if (entry.DType != "F32" || !entry.Shape.SequenceEqual(parameter.Shape))
            {
                throw new ModelFileException(file.Source,
                    $"'{entry.Name}' is {entry.DType} {entry.ShapeText} but {description.Name} needs F32 [{string.Join(", ", parameter.Shape)}]. It was " +
                        $"saved from another architecture.");
            }
        }

        var weights = NetworkWeights.Create(description, (span, parameter) =>
        {
            file.TryGetEntry(parameter.Name, out var entry);
            SafeTensorsFile.CopyLittleEndian(file.GetBytes(entry), MemoryMarshal.AsBytes(span), sizeof(float));
        }, out var nonFinite);
        if (nonFinite is { } bad)
        {
            throw new ModelFileException(file.Source,
                $"'{bad.Parameter.Name}' holds a NaN or infinite value at element {bad.Element}; the training that wrote it diverged.");
        }

        return weights;
    }

    /// <summary>The file's bytes for <paramref name="weights"/>, with <paramref name="metadata"/> and the architecture's name in <c>__metadata__</c>.</summary>
    public static byte[] Write(NetworkWeights weights, IReadOnlyDictionary<string, string> metadata)
    {
        var entries = weights.Description.Parameters.Select((p, i) => (p.Name, "F32", p.Shape, MemoryMarshal.AsBytes(weights[i]).ToArray()));
        var withArchitecture = new Dictionary<string, string>(metadata, StringComparer.Ordinal) { [ArchitectureKey] = weights.Description.Name };
        return SafeTensorsFile.Write(entries, withArchitecture);
    }

    private static NetworkDescription Identify(SafeTensorsFile file)
    {
        if (file.Metadata.TryGetValue(ArchitectureKey, out var name))
        {
            return NetworkDescription.Find(name) ?? throw new ModelFileException(file.Source,
                $"records the architecture '{name}', which this library does not run (it runs " +
                    $"{string.Join(", ", NetworkDescription.Known.Select(d => d.Name))}).");
        }

        // No name: the architecture whose tensors the file holds, else the nearest (most names in common), to say what differs.
        var names = file.Entries.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var shapes = file.Entries.ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal);
        return NetworkDescription.Matching(shapes).FirstOrDefault()
            ?? NetworkDescription.Known.OrderByDescending(d => d.Parameters.Count(p => names.Contains(p.Name))).First();
    }
}
