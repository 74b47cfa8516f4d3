using MnistCnn.Core.Engine;
using MnistCnn.Core.Runtime;
using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>
/// Saves and loads a model's weights (its state dictionary) as a safetensors file, which PyTorch reads and
/// writes too, so weights move between a TorchSharp module and a PyTorch module with the same names.
/// </summary>
public static class ModelWeights
{
    /// <summary>
    /// Writes every entry of <paramref name="model"/>'s state dictionary to <paramref name="path"/>, atomically:
    /// the file is written under a temporary name in the same folder and renamed into place. For a
    /// <see cref="LeNet"/> or <see cref="ConvNet"/> the file's <c>__metadata__</c> names the architecture
    /// (<c>architecture</c>), so <see cref="Inference.DigitClassifier.Load"/> knows what it holds.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The destination file; replaced if it exists.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        TorchRuntime.EnsureAvailable();
        var metadata = model is IEngineNetwork network
            ? new Dictionary<string, string>(StringComparer.Ordinal) { [NetworkFile.ArchitectureKey] = network.Description.Name }
            : null;
        AtomicFile.Write(path, SafeTensorsFormat.Write(model.state_dict(), metadata));
    }

    /// <summary>
    /// Copies the weights in <paramref name="path"/> into <paramref name="model"/>. Every entry of the model's
    /// state dictionary must be present with the same shape and type, and the file must hold no other entry.
    /// </summary>
    /// <param name="model">The model; its tensors keep their device.</param>
    /// <param name="path">A file written by <see cref="Save"/> or by PyTorch in the safetensors layout.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFileException">The file is damaged or holds weights of another architecture.</exception>
    public static void Load(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        TorchRuntime.EnsureAvailable();
        LoadBytes(model, File.ReadAllBytes(path), path);
    }

    internal static void LoadBytes(nn.Module model, ReadOnlySpan<byte> bytes, string source)
    {
        var loaded = SafeTensorsFormat.Read(bytes, source);
        try
        {
            var target = model.state_dict();
            var missing = target.Keys.Where(k => !loaded.ContainsKey(k)).ToArray();
            var unexpected = loaded.Keys.Where(k => !target.ContainsKey(k)).ToArray();
            if (missing.Length > 0 || unexpected.Length > 0)
            {
                throw new ModelFileException(source,
                    $"does not match the model: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]. It was saved from " +
                        $"another architecture.");
            }

            foreach (var (name, destination) in target)
            {
                var stored = loaded[name];
                if (!stored.shape.SequenceEqual(destination.shape) || stored.dtype != destination.dtype)
                {
                    throw new ModelFileException(source,
                        $"'{name}' is {stored.dtype} [{string.Join(", ", stored.shape)}] but the model expects {destination.dtype} " +
                            $"[{string.Join(", ", destination.shape)}]. It was saved from another architecture.");
                }
            }

            using var noGrad = no_grad();
            foreach (var (name, destination) in target)
            {
                destination.copy_(loaded[name]);
            }
        }
        finally
        {
            foreach (var t in loaded.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>Describes a model's state dictionary (names, types, shapes) to identify its architecture.</summary>
    internal static string Describe(nn.Module model) =>
        string.Join("; ", model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key} {kv.Value.dtype} [{string.Join(", ", kv.Value.shape)}]"));
}
