using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MnistCnn.Core.Tests.Reliability.Fuzzing;

/// <summary>
/// The tests' own reading and writing of the safetensors layout, written from the format's specification and
/// independent of the library's parser: the fuzz tests build their files with it, and judge every load with it
/// (<see cref="Check"/> says whether a file is valid and what it holds).
/// </summary>
internal static class SafeTensorsImage
{
    /// <summary>The case-study ConvNet's tensors: name and shape, all F32.</summary>
    public static readonly (string Name, long[] Shape)[] ConvNetLayout =
    [
        ("conv1.weight", [3, 1, 3, 3]),
        ("conv1.bias", [3]),
        ("conv2.weight", [6, 3, 3, 3]),
        ("conv2.bias", [6]),
        ("linear1.weight", [10, 3456]),
        ("linear1.bias", [10]),
    ];

    /// <summary>LeNet's tensors: name and shape, all F32.</summary>
    public static readonly (string Name, long[] Shape)[] LeNetLayout =
    [
        ("conv1.weight", [20, 1, 5, 5]),
        ("conv1.bias", [20]),
        ("conv2.weight", [50, 20, 5, 5]),
        ("conv2.bias", [50]),
        ("fc1.weight", [500, 800]),
        ("fc1.bias", [500]),
        ("fc2.weight", [10, 500]),
        ("fc2.bias", [10]),
    ];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Splits a valid file into its tensors (in data order) and metadata; throws on an invalid one.</summary>
    public static (List<Tensor> Tensors, List<KeyValuePair<string, string>> Metadata) Split(byte[] file)
    {
        var verdict = Check(file);
        if (verdict.Problem is not null)
        {
            throw new InvalidDataException($"The seed file is not valid: {verdict.Problem}");
        }

        return ([.. verdict.Tensors!.OrderBy(t => t.Begin)], verdict.Metadata!);
    }

    /// <summary>
    /// Writes a file: an 8-byte length, the header (JSON text from <paramref name="headerJson"/>, padded with
    /// <paramref name="padding"/> spaces), then <paramref name="data"/>.
    /// </summary>
    public static byte[] Assemble(string headerJson, byte[] data, int padding = -1)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        return Assemble(header, data, padding);
    }

    /// <summary>As <see cref="Assemble(string, byte[], int)"/> for header bytes (which may be invalid UTF-8).</summary>
    public static byte[] Assemble(byte[] header, byte[] data, int padding = -1)
    {
        var pad = padding >= 0 ? padding : (8 - (header.Length % 8)) % 8;
        var file = new byte[8 + header.Length + pad + data.Length];
        BinaryPrimitives.WriteInt64LittleEndian(file, header.Length + pad);
        header.CopyTo(file, 8);
        file.AsSpan(8 + header.Length, pad).Fill((byte)' ');
        data.CopyTo(file, 8 + header.Length + pad);
        return file;
    }

    /// <summary>The header JSON of tensors laid out one after another in the given order, metadata first.</summary>
    public static string Header(IEnumerable<Tensor> tensors, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var parts = new List<string>();
        var meta = metadata.ToList();
        if (meta.Count > 0)
        {
            parts.Add($"\"__metadata__\":{{{string.Join(",", meta.Select(m => $"{JsonSerializer.Serialize(m.Key)}:{JsonSerializer.Serialize(m.Value)}"))}}}");
        }

        parts.AddRange(tensors.Select(Entry));
        return "{" + string.Join(",", parts) + "}";
    }

    /// <summary>One header entry, <c>"name":{"dtype":...,"shape":[...],"data_offsets":[b,e]}</c>.</summary>
    public static string Entry(Tensor t) =>
        $"{JsonSerializer.Serialize(t.Name)}:{{\"dtype\":\"{t.DType}\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{t.Begin},{t.End}]}}";

    /// <summary>Lays tensors out one after another (offsets recomputed) and writes the file.</summary>
    public static byte[] Build(IReadOnlyList<Tensor> tensors, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var laid = new List<Tensor>();
        long offset = 0;
        foreach (var t in tensors)
        {
            laid.Add(t with { Begin = offset, End = offset + t.Data.Length });
            offset += t.Data.Length;
        }

        return Assemble(Header(laid, metadata), [.. laid.SelectMany(t => t.Data)]);
    }

    /// <summary>
    /// Judges a file by the specification's rules, as strictly as the library documents it checks them: the
    /// header length fits, the header is UTF-8 JSON, an object with unique names, every entry has exactly a
    /// known dtype, a shape of non-negative integers and a [begin, end] pair, sizes agree, the ranges tile the
    /// data exactly, F32/F64 values are finite, metadata values are strings. On success, what the file holds.
    /// </summary>
    public static Verdict Check(ReadOnlySpan<byte> file)
    {
        if (file.Length < 8)
        {
            return Verdict.Invalid("shorter than the length field");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength < 2 || headerLength > 100_000_000 || headerLength > (ulong)(file.Length - 8))
        {
            return Verdict.Invalid("header length out of range");
        }

        var header = file.Slice(8, (int)headerLength).ToArray();
        var data = file[(8 + (int)headerLength)..];
        try
        {
            _ = StrictUtf8.GetString(header);
        }
        catch (DecoderFallbackException)
        {
            return Verdict.Invalid("header is not UTF-8");
        }

        if (header[0] != (byte)'{')
        {
            return Verdict.Invalid("header does not start with '{'");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException)
        {
            return Verdict.Invalid("header is not JSON");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Verdict.Invalid("header is not an object");
            }

            var tensors = new List<Tensor>();
            var metadata = new List<KeyValuePair<string, string>>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    return Verdict.Invalid("duplicate name");
                }

                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                    {
                        return Verdict.Invalid("metadata not an object");
                    }

                    var keys = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String || !keys.Add(item.Name))
                        {
                            return Verdict.Invalid("metadata entry not a unique string");
                        }

                        metadata.Add(new(item.Name, item.Value.GetString()!));
                    }

                    continue;
                }

                var (tensor, problem) = ReadEntry(property.Name, property.Value, data);
                if (problem is not null)
                {
                    return Verdict.Invalid(problem);
                }

                tensors.Add(tensor!);
            }

            long expected = 0;
            foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
            {
                if (t.Begin != expected)
                {
                    return Verdict.Invalid("ranges leave a hole or overlap");
                }

                expected = t.End;
            }

            if (expected != data.Length)
            {
                return Verdict.Invalid("ranges do not end at the end of the file");
            }

            for (var i = 0; i < tensors.Count; i++)
            {
                var t = tensors[i];
                tensors[i] = t with { Data = data.Slice((int)t.Begin, (int)(t.End - t.Begin)).ToArray() };
                if (!AllFinite(tensors[i]))
                {
                    return Verdict.Invalid("NaN or infinite value");
                }
            }

            return new Verdict(null, tensors, metadata);
        }
    }

    /// <summary>Whether a file's tensors are exactly the case-study ConvNet's (names, F32, shapes).</summary>
    public static bool IsConvNet(IReadOnlyList<Tensor> tensors) => Holds(tensors, ConvNetLayout);

    /// <summary>
    /// The architecture a classifier must read from a valid file: the one its metadata's <c>architecture</c> names
    /// (ConvNet or LeNet) when the tensors are exactly that one's; without the key, the one whose tensors it holds
    /// exactly; otherwise none (the file must be refused).
    /// </summary>
    public static string? ClassifierArchitecture(IReadOnlyList<Tensor> tensors, IReadOnlyList<KeyValuePair<string, string>> metadata)
    {
        var named = metadata.Where(m => m.Key == "architecture").Select(m => m.Value).ToList();
        return named.Count switch
        {
            0 => Holds(tensors, ConvNetLayout) ? "ConvNet" : Holds(tensors, LeNetLayout) ? "LeNet" : null,
            _ => named[0] switch
            {
                "ConvNet" when Holds(tensors, ConvNetLayout) => "ConvNet",
                "LeNet" when Holds(tensors, LeNetLayout) => "LeNet",
                _ => null,
            },
        };
    }

    private static bool Holds(IReadOnlyList<Tensor> tensors, (string Name, long[] Shape)[] layout) =>
        tensors.Count == layout.Length
        && layout.All(l => tensors.Any(t => t.Name == l.Name && t.DType == "F32" && t.Shape.SequenceEqual(l.Shape)));

    /// <summary>
    /// A digest of named tensors' raw bytes, in ordinal name order: what the loaders' results are compared by
    /// (the child process computes it from the loaded model, the test from the file).
    /// </summary>
    public static string Digest(IEnumerable<(string Name, byte[] Bytes)> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, bytes) in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name));
            hash.AppendData([0]);
            hash.AppendData(bytes);
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static (Tensor? Tensor, string? Problem) ReadEntry(string name, JsonElement value, ReadOnlySpan<byte> data)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return (null, "entry not an object");
        }

        var fields = value.EnumerateObject().ToList();
        if (fields.Count != 3 || fields.Select(f => f.Name).Distinct().Count() != 3
            || !fields.All(f => f.Name is "dtype" or "shape" or "data_offsets"))
        {
            return (null, "entry fields are not exactly dtype, shape, data_offsets");
        }

        var dtype = value.GetProperty("dtype");
        var shape = Integers(value.GetProperty("shape"));
        var offsets = Integers(value.GetProperty("data_offsets"));
        if (dtype.ValueKind != JsonValueKind.String || shape is null || offsets is null || shape.Length > 64 || offsets.Length != 2 || offsets[0] > offsets[1])
        {
            return (null, "entry field of the wrong type");
        }

        var width = dtype.GetString() switch
        {
            "BOOL" or "U8" or "I8" or "F8_E4M3" or "F8_E5M2" => 1,
            "I16" or "U16" or "F16" or "BF16" => 2,
            "I32" or "U32" or "F32" => 4,
            "I64" or "U64" or "F64" => 8,
            _ => 0,
        };
        if (width == 0)
        {
            return (null, "unknown dtype");
        }

        var elements = shape.Aggregate(BigInteger.One, (a, d) => a * d);
        if (elements * width != offsets[1] - offsets[0])
        {
            return (null, "shape does not fill the range");
        }

        return (new Tensor(name, dtype.GetString()!, shape, [], offsets[0], offsets[1]), null);
    }

    private static long[]? Integers(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var result = new List<long>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var n) || n < 0)
            {
                return null;
            }

            result.Add(n);
        }

        return [.. result];
    }

    private static bool AllFinite(Tensor t)
    {
        for (var i = 0; t.DType == "F32" && i + 4 <= t.Data.Length; i += 4)
        {
            if (!float.IsFinite(BinaryPrimitives.ReadSingleLittleEndian(t.Data.AsSpan(i))))
            {
                return false;
            }
        }

        for (var i = 0; t.DType == "F64" && i + 8 <= t.Data.Length; i += 8)
        {
            if (!double.IsFinite(BinaryPrimitives.ReadDoubleLittleEndian(t.Data.AsSpan(i))))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>One tensor of a file: name, dtype, shape, its bytes and its range in the data.</summary>
    internal sealed record Tensor(string Name, string DType, long[] Shape, byte[] Data, long Begin, long End);

    /// <summary>A file judged: <see cref="Problem"/> null when valid, then its tensors and metadata.</summary>
    internal sealed record Verdict(string? Problem, List<Tensor>? Tensors, List<KeyValuePair<string, string>>? Metadata)
    {
        public static Verdict Invalid(string problem) => new(problem, null, null);

        /// <summary>Whether a loader of the case-study ConvNet must accept the file.</summary>
        public bool IsLoadableConvNet => Problem is null && IsConvNet(Tensors!);

        /// <summary>Whether <c>DigitClassifier.Load</c> must accept the file (<see cref="ClassifierArchitecture"/>).</summary>
        public bool IsLoadableByClassifier => Problem is null && ClassifierArchitecture(Tensors!, Metadata!) is not null;
    }
}
