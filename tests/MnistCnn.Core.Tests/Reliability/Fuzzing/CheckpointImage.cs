using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MnistCnn.Core.Tests.Reliability.Fuzzing;

/// <summary>
/// The tests' own view of a training checkpoint (layout documented in TrainingCheckpoint): magic
/// <c>MNCKPT02</c>, three sections each behind an int64 little-endian length (JSON header, safetensors
/// weights, optimizer state in TorchSharp's format), then the SHA-256 of everything before it.
/// </summary>
internal sealed record CheckpointImage(byte[] Magic, byte[] Header, byte[] Weights, byte[] Optimizer)
{
    public const int MagicLength = 8;

    /// <summary>Splits a valid checkpoint; throws when it is not one.</summary>
    public static CheckpointImage Split(byte[] file) =>
        TryParse(file) ?? throw new InvalidDataException("The seed is not a valid checkpoint (magic, seal or sections).");

    /// <summary>
    /// The parts of a checkpoint whose magic is <c>MNCKPT02</c>, whose seal matches and whose three sections
    /// fill the content exactly; null for anything else.
    /// </summary>
    public static CheckpointImage? TryParse(byte[] file)
    {
        if (file.Length < MagicLength + 32 || !file.AsSpan(0, MagicLength).SequenceEqual("MNCKPT02"u8))
        {
            return null;
        }

        var content = file.AsSpan(0, file.Length - 32);
        if (!SHA256.HashData(content).AsSpan().SequenceEqual(file.AsSpan(content.Length)))
        {
            return null;
        }

        long offset = MagicLength;
        var sections = new byte[3][];
        for (var i = 0; i < 3; i++)
        {
            if (offset + 8 > content.Length)
            {
                return null;
            }

            var length = BinaryPrimitives.ReadInt64LittleEndian(content[(int)offset..]);
            if (length < 0 || length > content.Length - offset - 8)
            {
                return null;
            }

            sections[i] = content.Slice((int)offset + 8, (int)length).ToArray();
            offset += 8 + length;
        }

        return offset == content.Length ? new CheckpointImage(file[..MagicLength], sections[0], sections[1], sections[2]) : null;
    }

    /// <summary>The content (magic and sections, each with its length), without the seal.</summary>
    public byte[] Content() => [.. Magic, .. Section(Header), .. Section(Weights), .. Section(Optimizer)];

    /// <summary>The checkpoint with a seal computed over its content.</summary>
    public byte[] Sealed() => Seal(Content());

    /// <summary>Appends the SHA-256 of <paramref name="content"/>, as the writer does.</summary>
    public static byte[] Seal(byte[] content) => [.. content, .. SHA256.HashData(content)];

    /// <summary>An int64 little-endian length followed by the bytes.</summary>
    public static byte[] Section(byte[] bytes)
    {
        var result = new byte[8 + bytes.Length];
        BinaryPrimitives.WriteInt64LittleEndian(result, bytes.Length);
        bytes.CopyTo(result, 8);
        return result;
    }
}
