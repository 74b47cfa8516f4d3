using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>
/// The case-study network's parameters as managed arrays, row-major as in PyTorch's state dictionary.
/// Immutable after construction; every value is finite.
/// </summary>
internal sealed class ConvNetWeights
{
    public const int Conv1Channels = 3;
    public const int Conv2Channels = 6;
    public const int Kernel = 3;
    public const int Features = Conv2Channels * 24 * 24;

    // The architecture: every state dictionary key with its shape, in the order of the forward pass.
    private static readonly (string Name, long[] Shape)[] Layout =
    [
        ("conv1.weight", [Conv1Channels, 1, Kernel, Kernel]),
        ("conv1.bias", [Conv1Channels]),
        ("conv2.weight", [Conv2Channels, Conv1Channels, Kernel, Kernel]),
        ("conv2.bias", [Conv2Channels]),
        ("linear1.weight", [ConvNet.ClassCount, Features]),
        ("linear1.bias", [ConvNet.ClassCount]),
    ];

    private ConvNetWeights(float[][] values)
    {
        Conv1Weight = values[0];
        Conv1Bias = values[1];
        Conv2Weight = values[2];
        Conv2Bias = values[3];
        LinearWeight = values[4];
        LinearBias = values[5];
    }

    public float[] Conv1Weight { get; }

    public float[] Conv1Bias { get; }

    public float[] Conv2Weight { get; }

    public float[] Conv2Bias { get; }

    public float[] LinearWeight { get; }

    public float[] LinearBias { get; }

    /// <summary>The expected tensors as text, for messages: <c>conv1.weight F32 [3, 1, 3, 3]; ...</c>.</summary>
    public static string ExpectedLayout => string.Join("; ", Layout.Select(t => $"{t.Name} F32 [{string.Join(", ", t.Shape)}]"));

    /// <summary>Takes the weights out of a parsed safetensors file, which must hold exactly ConvNet's tensors.</summary>
    /// <exception cref="ModelFileException">A tensor is missing, extra, or of another dtype or shape.</exception>
    public static ConvNetWeights FromFile(SafeTensorsFile file)
    {
        var missing = Layout.Where(t => !file.TryGetEntry(t.Name, out _)).Select(t => t.Name).ToArray();
        var unexpected = file.Entries.Select(e => e.Name).Where(n => !Layout.Any(t => t.Name == n)).ToArray();
        if (missing.Length > 0 || unexpected.Length > 0)
        {
            throw new ModelFileException(file.Source,
                $"does not hold the case-study ConvNet's weights: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]. " +
                $"It was saved from another architecture (expected {ExpectedLayout}).");
        }

        var values = new float[Layout.Length][];
        for (var i = 0; i < Layout.Length; i++)
        {
            file.TryGetEntry(Layout[i].Name, out var entry);
            if (entry.DType != "F32" || !entry.Shape.SequenceEqual(Layout[i].Shape))
            {
                throw new ModelFileException(file.Source,
                    $"'{entry.Name}' is {entry.DType} {entry.ShapeText} but the case-study ConvNet needs F32 [{string.Join(", ", Layout[i].Shape)}]. It was saved from another architecture.");
            }

            values[i] = file.GetSingles(entry);
        }

        return new ConvNetWeights(values);
    }

    /// <summary>Copies a ConvNet's parameters (from any device) into managed arrays.</summary>
    /// <exception cref="ArgumentException">A parameter holds a NaN or infinite value.</exception>
    public static ConvNetWeights FromModel(ConvNet model)
    {
        var state = model.state_dict();
        var values = new float[Layout.Length][];
        for (var i = 0; i < Layout.Length; i++)
        {
            using var scope = NewDisposeScope();
            var cpu = state[Layout[i].Name].detach().to(ScalarType.Float32).cpu().contiguous();
            values[i] = cpu.data<float>().ToArray();
            var bad = Array.FindIndex(values[i], v => !float.IsFinite(v));
            if (bad >= 0)
            {
                throw new ArgumentException($"The model's '{Layout[i].Name}' holds a NaN or infinite value at element {bad}; its training diverged.", nameof(model));
            }
        }

        return new ConvNetWeights(values);
    }
}
