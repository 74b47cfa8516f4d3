using System.Buffers.Binary;
using System.Text;
using Tensor = MnistCnn.Core.Tests.Reliability.Fuzzing.SafeTensorsImage.Tensor;

namespace MnistCnn.Core.Tests.Reliability.Fuzzing;

/// <summary>
/// Seeded mutations of a valid safetensors file: structured attacks on the header length, the offsets, dtypes
/// and shapes, the values (NaN, infinities), the JSON and its UTF-8, plus truncation, trailing bytes and random
/// byte flips. Case <c>i</c> depends only on the seed file, the seed and <c>i</c>, so the child process and the
/// test make the same file for the same index.
/// </summary>
internal sealed class SafeTensorsMutator
{
    private static readonly string[] Mutations =
    [
        "header length +-1", "header length huge", "header length past the end",
        "offsets onto a neighbour", "offsets overlapping", "offsets with a hole", "offsets past the end",
        "dtype changed", "shape changed", "shape product overflows",
        "NaN or infinite weight", "extreme finite weight",
        "truncated", "trailing bytes", "invalid UTF-8", "broken JSON", "duplicate key", "deeply nested JSON",
        "tensor missing or extra", "not a header object",
        "keys reordered", "data reordered", "metadata changed", "header padding changed",
        "byte flips", "byte flips in the header",
    ];

    private readonly byte[] _seed;
    private readonly List<Tensor> _tensors;
    private readonly List<KeyValuePair<string, string>> _metadata;
    private readonly int _headerEnd;

    public SafeTensorsMutator(byte[] seedFile)
    {
        _seed = seedFile;
        (_tensors, _metadata) = SafeTensorsImage.Split(seedFile);
        _headerEnd = 8 + (int)BinaryPrimitives.ReadInt64LittleEndian(seedFile);
    }

    public static int MutationCount => Mutations.Length;

    /// <summary>The mutated file number <paramref name="index"/> of the series <paramref name="seed"/>.</summary>
    public FuzzCase Make(int seed, int index)
    {
        var random = FuzzCase.RandomFor(seed, index, salt: 1);
        var mutation = Mutations[index % Mutations.Length];
        var (bytes, mustRefuse) = Apply(random, mutation);
        return new FuzzCase(index, mutation, bytes, mustRefuse);
    }

    private (byte[] Bytes, string? MustRefuseWith) Apply(Random random, string mutation)
    {
        var tensors = _tensors.Select(t => t with { Data = (byte[])t.Data.Clone() }).ToList();
        var k = random.Next(tensors.Count);
        switch (mutation)
        {
            case "header length +-1":
                return (WithHeaderLength(BinaryPrimitives.ReadInt64LittleEndian(_seed) + (random.Next(2) == 0 ? 1 : -1)), FuzzCase.AnyReason);
            case "header length huge":
                ulong[] huge = [1UL << 63, ulong.MaxValue, 1UL << 32, (ulong)int.MaxValue + 1, 100_000_001, 0, 1];
                return (WithHeaderLength(huge[random.Next(huge.Length)]), FuzzCase.AnyReason);
            case "header length past the end":
                return (WithHeaderLength((ulong)(_seed.Length - 8 + random.Next(1, 9))), FuzzCase.AnyReason);
            case "offsets onto a neighbour":
                {
                    var other = (k + 1 + random.Next(tensors.Count - 1)) % tensors.Count;
                    var laid = Laid(tensors);
                    laid[k] = laid[k] with { Begin = laid[other].Begin, End = laid[other].End };
                    return (Raw(laid), FuzzCase.AnyReason);
                }

            case "offsets overlapping":
                {
                    var laid = Laid(tensors);
                    var shift = 4 * random.Next(1, 4);
                    var victim = laid.FindIndex(t => t.Begin >= shift);
                    laid[victim] = laid[victim] with { Begin = laid[victim].Begin - shift, End = laid[victim].End - shift };
                    return (Raw(laid), FuzzCase.AnyReason);
                }

            case "offsets with a hole":
                {
                    var laid = Laid(tensors);
                    var shift = 4 * random.Next(1, 4);
                    for (var i = k; i < laid.Count; i++)
                    {
                        laid[i] = laid[i] with { Begin = laid[i].Begin + shift, End = laid[i].End + shift };
                    }

                    var padding = new byte[shift];
                    var data = laid.SelectMany(t => t.Data).ToList();
                    data.InsertRange((int)laid[k].Begin - shift, padding);
                    return (SafeTensorsImage.Assemble(SafeTensorsImage.Header(laid, _metadata), [.. data]), FuzzCase.AnyReason);
                }

            case "offsets past the end":
                {
                    var laid = Laid(tensors);
                    long[] ends = [laid[k].End + 4, laid[k].End + (1L << 40), long.MaxValue, (long)int.MaxValue + 4];
                    laid[k] = laid[k] with { End = ends[random.Next(ends.Length)] };
                    return (Raw(laid), FuzzCase.AnyReason);
                }

            case "dtype changed":
                {
                    string[] dtypes = ["F16", "BF16", "F64", "I32", "U32", "I64", "U8", "BOOL", "F8_E4M3", "F33", "f32", "float32", string.Empty];
                    var laid = Laid(tensors);
                    laid[k] = laid[k] with { DType = dtypes[random.Next(dtypes.Length)] };
                    return (Raw(laid), FuzzCase.AnyReason);
                }

            case "shape changed":
                {
                    var shape = tensors[k].Shape;
                    var count = shape.Aggregate(1L, (a, d) => a * d);
                    long[][] shapes = [[count], [.. shape.Reverse()], [.. shape, 1], [1, .. shape], [], [count / 2, 2], [.. shape.Select((d, i) => i == 0 ? d + 1 : d)]];
                    var laid = Laid(tensors);
                    laid[k] = laid[k] with { Shape = shapes[random.Next(shapes.Length)] };
                    var mustRefuse = laid[k].Shape.SequenceEqual(shape) ? null : FuzzCase.AnyReason;
                    return (Raw(laid), mustRefuse);
                }

            case "shape product overflows":
                {
                    var laid = Laid(tensors);
                    switch (random.Next(4))
                    {
                        case 0:
                            laid[k] = laid[k] with { Shape = [1L << 32, 1L << 32, 1L << 32] };
                            break;
                        case 1:
                            // 8 x (3*2^60-1) wraps around 2^64 to exactly 2^63-8, the declared range.
                            laid[k] = laid[k] with { DType = "F64", Shape = [(3L << 60) - 1], Begin = 0, End = long.MaxValue - 7 };
                            break;
                        case 2:
                            laid[k] = laid[k] with { Shape = [long.MaxValue, 2] };
                            break;
                        default:
                            laid[k] = laid[k] with { Shape = [.. Enumerable.Repeat(65536L, 4), .. laid[k].Shape] };
                            break;
                    }

                    return (Raw(laid), FuzzCase.AnyReason);
                }

            case "NaN or infinite weight":
                {
                    uint[] bad = [0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0x7F80_0000, 0xFF80_0000, 0x7FFF_FFFF];
                    var element = random.Next(tensors[k].Data.Length / 4);
                    BinaryPrimitives.WriteUInt32LittleEndian(tensors[k].Data.AsSpan(4 * element), bad[random.Next(bad.Length)]);
                    return (SafeTensorsImage.Build(tensors, _metadata), "NaN or infinite");
                }

            case "extreme finite weight":
                {
                    float[] extreme = [float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, 0f, -0f, 1e-40f];
                    var element = random.Next(tensors[k].Data.Length / 4);
                    BinaryPrimitives.WriteSingleLittleEndian(tensors[k].Data.AsSpan(4 * element), extreme[random.Next(extreme.Length)]);
                    return (SafeTensorsImage.Build(tensors, _metadata), null);
                }

            case "truncated":
                return (_seed[..random.Next(_seed.Length)], FuzzCase.AnyReason);
            case "trailing bytes":
                {
                    var extra = new byte[random.Next(1, 65)];
                    random.NextBytes(extra);
                    return ([.. _seed, .. extra], FuzzCase.AnyReason);
                }

            case "invalid UTF-8":
                {
                    byte[][] sequences = [[0xFF], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xE2, 0x82]];
                    var header = HeaderBytes();
                    var quotes = Enumerable.Range(0, header.Length).Where(i => header[i] == (byte)'"').ToList();
                    var at = quotes[random.Next(quotes.Count)] + 1;
                    byte[] mutated = [.. header[..at], .. sequences[random.Next(sequences.Length)], .. header[at..]];
                    return (SafeTensorsImage.Assemble(mutated, DataBytes()), FuzzCase.AnyReason);
                }

            case "broken JSON":
                {
                    var header = Encoding.UTF8.GetString(HeaderBytes()).TrimEnd();
                    string[] junk = ["}", "{", "]", "[", ",", ":", "\"", "nope", "\\", "\u0000", "//", "1e999"];
                    var at = random.Next(1, header.Length);
                    var broken = random.Next(3) switch
                    {
                        0 => header.Remove(at, 1),
                        1 => header.Insert(at, junk[random.Next(junk.Length)]),
                        _ => header[..at],
                    };
                    return (SafeTensorsImage.Assemble(broken, DataBytes()), null);
                }

            case "duplicate key":
                {
                    var laid = Laid(tensors);
                    var header = SafeTensorsImage.Header(laid, _metadata);
                    var duplicated = random.Next(3) switch
                    {
                        0 => header.Insert(1, SafeTensorsImage.Entry(laid[k]) + ","),
                        1 => header.Insert(1, "\"__metadata__\":{},\"__metadata__\":{},"),
                        _ => header.Replace("\"dtype\":\"F32\",", "\"dtype\":\"F32\",\"dtype\":\"F32\",", StringComparison.Ordinal),
                    };
                    return (SafeTensorsImage.Assemble(duplicated, DataBytes()), FuzzCase.AnyReason);
                }

            case "deeply nested JSON":
                {
                    var depth = random.Next(9, 5000);
                    var nested = new string('[', depth) + new string(']', depth);
                    var header = SafeTensorsImage.Header(Laid(tensors), _metadata);
                    var value = random.Next(2) == 0 ? $"\"__metadata__\":{{\"x\":{nested}}}," : $"\"deep\":{nested},";
                    return (SafeTensorsImage.Assemble(header.Insert(1, value), DataBytes()), FuzzCase.AnyReason);
                }

            case "tensor missing or extra":
                if (random.Next(2) == 0)
                {
                    tensors.RemoveAt(k);
                }
                else
                {
                    tensors.Insert(random.Next(tensors.Count + 1), new Tensor("extra.weight", "F32", [2], new byte[8], 0, 0));
                }

                return (SafeTensorsImage.Build(tensors, _metadata), "architecture");
            case "not a header object":
                {
                    string[] headers = ["[]", "\"x\"", "null", "{}", "1", "{\"__metadata__\":{}}", " {}", "{\"a\":[1,2]}", "{\"__metadata__\":\"x\"}"];
                    return (SafeTensorsImage.Assemble(headers[random.Next(headers.Length)], random.Next(2) == 0 ? [] : DataBytes()), FuzzCase.AnyReason);
                }

            case "keys reordered":
                {
                    var laid = Laid(tensors);
                    var shuffled = laid.OrderBy(_ => random.Next()).ToList();
                    return (SafeTensorsImage.Assemble(SafeTensorsImage.Header(shuffled, _metadata), DataBytes()), null);
                }

            case "data reordered":
                return (SafeTensorsImage.Build([.. tensors.OrderBy(_ => random.Next())], _metadata), null);
            case "metadata changed":
                {
                    List<KeyValuePair<string, string>> metadata = random.Next(3) switch
                    {
                        0 => [],
                        1 => [.. _metadata, new("note", "ünïcode \u2603 \"quoted\" \\ /")],
                        _ => [.. _metadata.Select(m => new KeyValuePair<string, string>(m.Key, new string('x', random.Next(0, 2000))))],
                    };
                    return (SafeTensorsImage.Build(tensors, metadata), null);
                }

            case "header padding changed":
                return (SafeTensorsImage.Assemble(HeaderBytes(), DataBytes(), random.Next(0, 300)), null);
            case "byte flips":
                {
                    var bytes = (byte[])_seed.Clone();
                    for (var flips = random.Next(1, 9); flips > 0; flips--)
                    {
                        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    }

                    return (bytes, null);
                }

            case "byte flips in the header":
                {
                    var bytes = (byte[])_seed.Clone();
                    for (var flips = random.Next(1, 4); flips > 0; flips--)
                    {
                        bytes[random.Next(_headerEnd)] = (byte)random.Next(256);
                    }

                    return (bytes, null);
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(mutation), mutation, "Unknown mutation.");
        }
    }

    /// <summary>The tensors with the seed file's own ranges and data, ready for a raw header.</summary>
    private List<Tensor> Laid(List<Tensor> tensors) =>
        [.. tensors.Select(t => t with { Begin = _tensors.First(s => s.Name == t.Name).Begin, End = _tensors.First(s => s.Name == t.Name).End })];

    /// <summary>The seed file's data under a header written from (possibly inconsistent) entries.</summary>
    private byte[] Raw(List<Tensor> laid) => SafeTensorsImage.Assemble(SafeTensorsImage.Header(laid, _metadata), DataBytes());

    private byte[] HeaderBytes() => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(_seed, 8, _headerEnd - 8).TrimEnd(' '));

    private byte[] DataBytes() => _seed[_headerEnd..];

    private byte[] WithHeaderLength(long length) => WithHeaderLength(unchecked((ulong)length));

    private byte[] WithHeaderLength(ulong length)
    {
        var bytes = (byte[])_seed.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
        return bytes;
    }
}
