using System.Buffers.Binary;
using System.IO.Compression;

namespace MnistCnn.Core.Tests.Data;

/// <summary>Hand-built IDX bytes, for files the writer would refuse to produce.</summary>
internal static class IdxBytes
{
    /// <summary>An IDX header: 00 00, the element type, the dimension count, then each dimension big-endian.</summary>
    public static byte[] Header(byte elementType, params int[] dimensions)
    {
        var header = new byte[4 + (4 * dimensions.Length)];
        header[2] = elementType;
        header[3] = (byte)dimensions.Length;
        for (var i = 0; i < dimensions.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + (4 * i)), dimensions[i]);
        }

        return header;
    }

    /// <summary>An unsigned-byte header followed by <paramref name="dataLength"/> data bytes.</summary>
    public static byte[] File(int dataLength, params int[] dimensions) => [.. Header(0x08, dimensions), .. new byte[dataLength]];

    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }
}
