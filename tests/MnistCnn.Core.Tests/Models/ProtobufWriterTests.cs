using MnistCnn.Core.Models;

namespace MnistCnn.Core.Tests.Models;

/// <summary>The wire format, checked against encodings worked out from the Protocol Buffers encoding rules.</summary>
public sealed class ProtobufWriterTests
{
    [Theory]
    [InlineData(0UL, new byte[] { 0x00 })]
    [InlineData(1UL, new byte[] { 0x01 })]
    [InlineData(127UL, new byte[] { 0x7F })]
    [InlineData(128UL, new byte[] { 0x80, 0x01 })]
    [InlineData(300UL, new byte[] { 0xAC, 0x02 })]
    [InlineData(ulong.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void WriteVarint_Value_IsSevenBitsPerByteLowFirst(ulong value, byte[] expected)
    {
        var writer = new ProtobufWriter();

        writer.WriteVarint(value);

        writer.WrittenSpan.ToArray().Should().Equal(expected);
    }

    [Fact]
    public void WriteInt64_Field_IsTagThenVarint()
    {
        var writer = new ProtobufWriter();

        writer.WriteInt64(1, 150);
        writer.WriteInt64(20, 2);
        writer.WriteInt64(3, -1);

        writer.WrittenSpan.ToArray().Should().Equal(
            0x08, 0x96, 0x01,                                   // field 1, varint 150
            0xA0, 0x01, 0x02,                                   // field 20: tag 160 takes two bytes
            0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01);   // -1 as ten bytes
    }

    [Fact]
    public void WriteStringFloatAndMessage_Fields_AreLengthDelimitedOrFixed()
    {
        var writer = new ProtobufWriter();

        writer.WriteString(2, "testing");
        writer.WriteFloat(5, 1f);
        writer.WriteMessage(3, nested => nested.WriteInt64(1, 150));

        writer.WrittenSpan.ToArray().Should().Equal(
            0x12, 0x07, (byte)'t', (byte)'e', (byte)'s', (byte)'t', (byte)'i', (byte)'n', (byte)'g',
            0x2D, 0x00, 0x00, 0x80, 0x3F,                       // field 5, fixed32, 1.0f little-endian
            0x1A, 0x03, 0x08, 0x96, 0x01);                      // field 3, three bytes: the nested message
    }
}
