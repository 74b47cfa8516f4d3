using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace MnistCnn.Core.Models;

/// <summary>
/// Writes Protocol Buffers wire format: the few encodings an ONNX file needs (varints, length-delimited
/// strings, bytes and nested messages, fixed 32-bit floats). Fields are written in the order called.
/// </summary>
/// <remarks>
/// A tag is <c>(field number &lt;&lt; 3) | wire type</c> as a varint; wire type 0 is a varint, 2 a length
/// followed by that many bytes, 5 four little-endian bytes. A nested message is written whole into its own
/// buffer first, because its length comes before it.
/// </remarks>
internal sealed class ProtobufWriter
{
    private const int VarintType = 0;
    private const int LengthDelimitedType = 2;
    private const int Fixed32Type = 5;

    private readonly ArrayBufferWriter<byte> _buffer = new();

    /// <summary>Gets the bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    /// <summary>Writes an int64, int32 or enum field (negative values take ten bytes, as protobuf encodes them).</summary>
    public void WriteInt64(int field, long value)
    {
        WriteTag(field, VarintType);
        WriteVarint(unchecked((ulong)value));
    }

    /// <summary>Writes a float field.</summary>
    public void WriteFloat(int field, float value)
    {
        WriteTag(field, Fixed32Type);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    /// <summary>Writes a string field, UTF-8 encoded.</summary>
    public void WriteString(int field, string value) => WriteBytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>Writes a bytes field.</summary>
    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, LengthDelimitedType);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
    }

    /// <summary>Writes a nested message field, whose fields <paramref name="write"/> writes.</summary>
    public void WriteMessage(int field, Action<ProtobufWriter> write)
    {
        var nested = new ProtobufWriter();
        write(nested);
        WriteBytes(field, nested.WrittenSpan);
    }

    /// <summary>Writes a base-128 varint: seven bits per byte, low bits first, the high bit set on all but the last.</summary>
    public void WriteVarint(ulong value)
    {
        var span = _buffer.GetSpan(10);
        var length = 0;
        while (value >= 0x80)
        {
            span[length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[length++] = (byte)value;
        _buffer.Advance(length);
    }

    private void WriteTag(int field, int wireType) => WriteVarint((ulong)(((uint)field << 3) | (uint)wireType));
}
