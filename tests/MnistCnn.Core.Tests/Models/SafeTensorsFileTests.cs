using System.Buffers.Binary;
using System.Text;
using MnistCnn.Core.Models;

namespace MnistCnn.Core.Tests.Models;

/// <summary>The managed safetensors parser: PyTorch's files load; every damaged or hostile file is refused with <see cref="ModelFileException"/>.</summary>
public sealed class SafeTensorsFileTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch");

    public static TheoryData<string, string, string> HostileFiles => new()
    {
        { "empty file", string.Empty, "holds 0 bytes, fewer than the 8*" },
        { "header length 0", "@0|", "declares a header of 0 bytes*" },
        { "header longer than the file", "@4096|{}", "declares a header of 4096 bytes in a file of 10 bytes*" },
        { "header length 2^64-1", "@18446744073709551615|{}", "declares a header of 18446744073709551615 bytes*" },
        { "header not an object", "[1,2,3]", "*does not start with '{'*" },
        { "header not JSON", "{\"a\": nope}", "*not valid UTF-8 JSON*" },
        { "header cut short", "{\"a\":{\"dtype\":\"F32\"", "*not valid UTF-8 JSON*" },
        { "unknown dtype", "{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}####", "*'a' has dtype 'F33', which the safetensors format does not define*" },
        { "shape larger than its bytes", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}####", "*'a' of dtype F32 and shape [2] does not fill its 4 bytes*" },
        { "shape whose product overflows", "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}########", "*does not fill its 8 bytes*" },
        { "negative dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}####", "*shape entry '-1' that is not a non-negative integer*" },
        { "fractional offset", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0.5,4]}}####", "*data_offsets entry '0.5'*" },
        { "offsets reversed", "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}####", "*begin <= end*" },
        { "three offsets", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4,8]}}####", "*not a [begin, end] pair*" },
        { "hole before a tensor", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}########", "*leaves bytes [0, 4) of its data unused before tensor 'a'*" },
        { "overlapping tensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}######", "*tensor 'b' at bytes [2, 6), overlapping*" },
        { "trailing bytes", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}######", "*has 2 bytes after its last tensor*" },
        { "data cut short", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}##", "*declares 4 data bytes but holds 2; it is truncated*" },
        { "duplicate tensor name", "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}####", "*names 'a' twice*" },
        { "missing field", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4]}}####", "*'a' lacks one of dtype, shape and data_offsets*" },
        { "unknown field", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4],\"extra\":1}}####", "*unexpected, repeated or mistyped field 'extra'*" },
        { "tensor not an object", "{\"a\":[1,2]}", "*describes tensor 'a' with something other than a JSON object*" },
        { "metadata not strings", "{\"__metadata__\":{\"epochs\":5}}", "*__metadata__ entry 'epochs' that is not a string*" },
        { "NaN weight", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}%0000803F0000C07F", "*tensor 'a' holds a NaN or infinite value at element 1*" },
        { "infinite weight", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}%000000000000F07F", "*tensor 'a' holds a NaN or infinite value at element 0*" },
        { "deeply nested header", "{\"a\":" + new string('[', 100) + new string(']', 100) + "}", "*not valid UTF-8 JSON*" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void Parse_HostileFile_ThrowsModelFileExceptionNamingTheReason(string description, string spec, string reason)
    {
        var bytes = Build(spec);

        var act = () => SafeTensorsFile.Parse(bytes, "hostile.safetensors");

        act.Should().Throw<ModelFileException>(description).WithMessage($"hostile.safetensors: {reason}")
            .Which.FilePath.Should().Be("hostile.safetensors");
    }

    [Fact]
    public void Parse_InvalidUtf8InAName_ThrowsModelFileException()
    {
        var header = Encoding.UTF8.GetBytes("{\"\u00e9\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}");
        header[2] = 0xFF;
        var bytes = new byte[8 + header.Length];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, header.Length);
        header.CopyTo(bytes, 8);

        var act = () => SafeTensorsFile.Parse(bytes, "latin1.safetensors");

        act.Should().Throw<ModelFileException>().WithMessage("latin1.safetensors: *not valid UTF-8 JSON*");
    }

    [Theory]
    [InlineData("convnet-seed7.safetensors", 6)]
    [InlineData("convnet-adam.safetensors", 0)]
    public void Parse_PyTorchWrittenFile_Loads(string name, int convNetTensors)
    {
        var file = SafeTensorsFile.Parse(File.ReadAllBytes(Path.Combine(Fixtures, name)), name);

        file.Entries.Should().NotBeEmpty();
        file.Entries.Count(e => e.Name is "conv1.weight" or "conv1.bias" or "conv2.weight" or "conv2.bias" or "linear1.weight" or "linear1.bias")
            .Should().Be(convNetTensors);
        file.Metadata.Should().NotBeEmpty("PyTorch's writer records its command");
    }

    [Fact]
    public void WriteThenParse_KeepsNamesShapesDataAndMetadata()
    {
        var tensors = ConvNetTensors(4);
        var bytes = SafeTensorsFile.Write(tensors, [new("seed", "4"), new("note", "ünïcode")]);

        var file = SafeTensorsFile.Parse(bytes, "roundtrip");

        (BinaryPrimitives.ReadInt64LittleEndian(bytes) % 8).Should().Be(0, "the header is padded to 8 bytes");
        file.Metadata.Should().Equal(new Dictionary<string, string> { ["seed"] = "4", ["note"] = "ünïcode" });
        foreach (var (name, dtype, shape, data) in tensors)
        {
            file.TryGetEntry(name, out var entry).Should().BeTrue();
            entry.DType.Should().Be(dtype);
            entry.Shape.Should().Equal(shape);
            file.GetBytes(entry).ToArray().Should().Equal(data);
        }
    }

    [Fact]
    public void Parse_EveryTruncationAndRandomHeaderDamage_ThrowsOnlyModelFileException()
    {
        var valid = SafeTensorsFile.Write(ConvNetTensors(1));
        var headerEnd = 8 + (int)BinaryPrimitives.ReadInt64LittleEndian(valid);
        int truncations = 0, damaged = 0, refused = 0, accepted = 0;

        // Every cut inside the header and every 61st cut in the data.
        for (var length = 0; length < valid.Length; length += length < headerEnd + 16 ? 1 : 61)
        {
            truncations++;
            FluentActions.Invoking(() => SafeTensorsFile.Parse(valid.AsMemory(0, length), "cut")).Should().Throw<ModelFileException>($"a file cut at {length} bytes");
        }

        // Random bytes of the header replaced: refused with ModelFileException, or still a valid file
        // (a changed digit in a name, spaces in the padding), never another exception.
        var random = new Random(20);
        for (var trial = 0; trial < 3000; trial++)
        {
            var bytes = (byte[])valid.Clone();
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                bytes[random.Next(0, headerEnd)] = (byte)random.Next(256);
            }

            damaged++;
            try
            {
                SafeTensorsFile.Parse(bytes, "damaged");
                accepted++;
            }
            catch (ModelFileException)
            {
                refused++;
            }
        }

        TestArtifacts.Write("safetensors-hostile.txt",
        [
            $"managed safetensors parser on a {valid.Length}-byte ConvNet file ({headerEnd} bytes of length and header):",
            $"  truncated copies: {truncations}, all refused with ModelFileException",
            $"  copies with 1-3 random header bytes replaced: {damaged}; refused with ModelFileException {refused}, still valid {accepted}, any other outcome 0",
        ]);
        (refused + accepted).Should().Be(damaged);
        refused.Should().BeGreaterThan(damaged / 2);
    }

    /// <summary>Tensors with ConvNet's names and shapes and deterministic small values.</summary>
    internal static List<(string Name, string DType, long[] Shape, byte[] Data)> ConvNetTensors(int seed)
    {
        var random = new Random(seed);
        (string, long[])[] layout =
        [
            ("conv1.weight", [3, 1, 3, 3]), ("conv1.bias", [3]), ("conv2.weight", [6, 3, 3, 3]),
            ("conv2.bias", [6]), ("linear1.weight", [10, 3456]), ("linear1.bias", [10]),
        ];
        return layout.Select(t =>
        {
            var values = new float[t.Item2.Aggregate(1L, (a, b) => a * b)];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)((random.NextDouble() - 0.5) * 0.2);
            }

            var data = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, data, 0, data.Length);
            return (t.Item1, "F32", t.Item2, data);
        }).ToList();
    }

    /// <summary>
    /// Bytes from a compact description: "@N|rest" gives the header length N explicitly, else it is the
    /// header's length; the header ends at the first '#' or '%'; each '#' after it is one zero data byte, and
    /// '%' is followed by data bytes in hexadecimal.
    /// </summary>
    private static byte[] Build(string spec)
    {
        if (spec.Length == 0)
        {
            return [];
        }

        ulong? declared = null;
        if (spec.StartsWith('@'))
        {
            var bar = spec.IndexOf('|', StringComparison.Ordinal);
            declared = ulong.Parse(spec[1..bar], System.Globalization.CultureInfo.InvariantCulture);
            spec = spec[(bar + 1)..];
        }

        var end = spec.IndexOfAny(['#', '%']);
        var header = Encoding.UTF8.GetBytes(end < 0 ? spec : spec[..end]);
        var tail = end < 0 ? string.Empty : spec[end..];
        var data = tail.StartsWith('%') ? Convert.FromHexString(tail[1..]) : new byte[tail.Length];
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declared ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }
}
