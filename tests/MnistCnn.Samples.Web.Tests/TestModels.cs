using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>
/// Weights files for the reload tests: the repository's pretrained model, the same network with every weight
/// scaled (a second valid model whose answers differ), and a damaged file.
/// </summary>
internal static class TestModels
{
    /// <summary>The architecture of <see cref="Pretrained"/>'s network.</summary>
    public const string PretrainedArchitecture = "LeNet";

    /// <summary>
    /// Gets the bytes of the default model's weights file the package embeds
    /// (src/MnistCnn.Core/Inference/Pretrained/lenet.safetensors, the best model).
    /// </summary>
    public static byte[] Pretrained() =>
        File.ReadAllBytes(Path.Combine(Repository.Root, "src", "MnistCnn.Core", "Inference", "Pretrained", "lenet.safetensors"));

    /// <summary>
    /// The pretrained weights with every float32 value multiplied by <paramref name="factor"/>: the same
    /// architecture, other answers (the network is not linear).
    /// </summary>
    public static byte[] Scaled(float factor)
    {
        var bytes = Pretrained();
        var headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        var dataStart = 8 + headerLength;
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        foreach (var tensor in header.RootElement.EnumerateObject().Where(t => t.Name != "__metadata__"))
        {
            if (tensor.Value.GetProperty("dtype").GetString() != "F32")
            {
                continue;
            }

            var offsets = tensor.Value.GetProperty("data_offsets");
            for (var at = dataStart + offsets[0].GetInt32(); at < dataStart + offsets[1].GetInt32(); at += 4)
            {
                var value = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(at)) * factor;
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at), value);
            }
        }

        return bytes;
    }

    /// <summary>The first half of the pretrained file: a safetensors file whose data ends early.</summary>
    public static byte[] Truncated()
    {
        var bytes = Pretrained();
        return bytes[..(bytes.Length / 2)];
    }

    /// <summary>The SHA-256 of bytes, lower-case hex, as the service reports it.</summary>
    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Replaces <paramref name="path"/> with <paramref name="bytes"/> as an operator should: a complete file renamed over it.</summary>
    public static void Replace(string path, byte[] bytes)
    {
        var temporary = path + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }
}
