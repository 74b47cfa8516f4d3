using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MnistCnn.Core.Models;

/// <summary>
/// A parsed and validated safetensors image, in managed code only (no torch): an 8-byte little-endian
/// header length, a UTF-8 JSON object mapping each tensor name to its dtype, shape and byte range (plus an
/// optional <c>__metadata__</c> object of strings), then the raw little-endian data.
/// </summary>
/// <remarks>
/// <para>
/// Parsing is strict, as the format's specification asks, so a damaged or hostile file is refused before
/// anything is allocated from its numbers: the header length is at least 2 bytes, at most 100 MB and
/// inside the file; the header is valid UTF-8 JSON whose root is an object with no duplicate names; every
/// dtype is one the specification lists; every shape is a list of non-negative integers whose product
/// times the element size equals the tensor's byte range; the byte ranges start at 0, tile the data
/// without holes or overlaps and end exactly at the end of the file; F32 and F64 tensors hold only finite
/// numbers. Every violation raises <see cref="ModelFileException"/> naming the source and the reason.
/// </para>
/// <para>
/// The instance keeps the bytes it was parsed from (not copied); tensor data is copied out on request.
/// </para>
/// </remarks>
internal sealed class SafeTensorsFile
{
    /// <summary>The specification's limit on the header (100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private readonly ReadOnlyMemory<byte> _data;
    private readonly Dictionary<string, SafeTensorsEntry> _byName;

    private SafeTensorsFile(string source, ReadOnlyMemory<byte> data, List<SafeTensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Source = source;
        _data = data;
        Entries = entries;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Metadata = metadata;
    }

    /// <summary>Gets the file name or description used in error messages.</summary>
    public string Source { get; }

    /// <summary>Gets the tensors in the order of their data.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    /// <summary>Gets the <c>__metadata__</c> strings; empty when the header has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Parses and validates <paramref name="bytes"/>, which the instance keeps (not copied).</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="source">The file name or a description, for error messages.</param>
    /// <exception cref="ModelFileException">The bytes are not a valid safetensors image.</exception>
    public static SafeTensorsFile Parse(ReadOnlyMemory<byte> bytes, string source)
    {
        var span = bytes.Span;
        if (span.Length < 8)
        {
            throw new ModelFileException(source,
                $"holds {span.Length} bytes, fewer than the 8 of a safetensors header length; it is not a safetensors file or is truncated.");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(span);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > (ulong)(span.Length - 8))
        {
            throw new ModelFileException(source,
                $"declares a header of {headerLength} bytes in a file of {span.Length} bytes; it is not a safetensors file or is truncated.");
        }

        var header = bytes.Slice(8, (int)headerLength);
        var data = bytes[(8 + (int)headerLength)..];
        if (header.Span[0] != (byte)'{')
        {
            throw new ModelFileException(source, "has a header that does not start with '{'; it is not a safetensors file.");
        }

        var entries = new List<SafeTensorsEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFileException(source, "has a header that is not a JSON object.");
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    throw new ModelFileException(source, $"names '{property.Name}' twice in its header.");
                }

                if (property.Name == MetadataKey)
                {
                    ReadMetadata(property.Value, metadata, source);
                }
                else
                {
                    entries.Add(ReadEntry(property.Name, property.Value, source));
                }
            }
        }
        catch (JsonException e)
        {
            throw new ModelFileException(source, $"has a header that is not valid UTF-8 JSON ({e.Message}).", e);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // Invalid UTF-8 in a name or string surfaces when it is decoded.
            throw new ModelFileException(source, $"has a header that is not valid UTF-8 JSON ({e.Message}).", e);
        }

        CheckTiling(entries, data.Length, source);
        var file = new SafeTensorsFile(source, data, entries, metadata);
        foreach (var entry in entries)
        {
            file.CheckFinite(entry);
        }

        return file;
    }

    /// <summary>
    /// Writes a safetensors image in managed code: tensors in the given order, each tiling the data after
    /// the previous one, the header padded with spaces to a multiple of 8 bytes, as the format recommends.
    /// </summary>
    /// <param name="tensors">Name, dtype, shape and raw little-endian bytes of each tensor.</param>
    /// <param name="metadata">The <c>__metadata__</c> strings, written first; none when null or empty.</param>
    public static byte[] Write(
        IEnumerable<(string Name, string DType, long[] Shape, byte[] Data)> tensors,
        IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        var blobs = tensors.ToList();
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            var meta = metadata?.ToList();
            if (meta is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in meta)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var blob in blobs)
            {
                json.WriteStartObject(blob.Name);
                json.WriteString("dtype", blob.DType);
                json.WriteStartArray("shape");
                foreach (var d in blob.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + blob.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += blob.Data.Length;
            }

            json.WriteEndObject();
        }

        var headerLength = (header.Length + 7) / 8 * 8;
        using var output = new MemoryStream();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, headerLength);
        output.Write(length);
        output.Write(header.GetBuffer().AsSpan(0, (int)header.Length));
        for (var i = header.Length; i < headerLength; i++)
        {
            output.WriteByte((byte)' ');
        }

        foreach (var blob in blobs)
        {
            output.Write(blob.Data);
        }

        return output.ToArray();
    }

    /// <summary>Looks up a tensor by name.</summary>
    public bool TryGetEntry(string name, out SafeTensorsEntry entry) => _byName.TryGetValue(name, out entry!);

    /// <summary>Gets the raw little-endian bytes of a tensor.</summary>
    public ReadOnlySpan<byte> GetBytes(SafeTensorsEntry entry) => _data.Span.Slice((int)entry.Start, (int)entry.ByteLength);

    /// <summary>Copies an F32 tensor's values, row-major.</summary>
    /// <exception cref="ModelFileException">The tensor is not F32.</exception>
    public float[] GetSingles(SafeTensorsEntry entry)
    {
        if (entry.DType != "F32")
        {
            throw new ModelFileException(Source, $"tensor '{entry.Name}' is {entry.DType}, not F32.");
        }

        var values = new float[entry.ElementCount];
        CopyLittleEndian(GetBytes(entry), MemoryMarshal.AsBytes(values.AsSpan()), 4);
        return values;
    }

    /// <summary>Copies little-endian elements of <paramref name="width"/> bytes into native order.</summary>
    internal static void CopyLittleEndian(ReadOnlySpan<byte> source, Span<byte> destination, int width)
    {
        source.CopyTo(destination);
        if (!BitConverter.IsLittleEndian && width > 1)
        {
            for (var i = 0; i < destination.Length; i += width)
            {
                destination.Slice(i, width).Reverse();
            }
        }
    }

    /// <summary>The element size of a dtype the specification lists, or 0 for an unknown one.</summary>
    internal static int ElementSize(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E4M3" or "F8_E5M2" => 1,
        "I16" or "U16" or "F16" or "BF16" => 2,
        "I32" or "U32" or "F32" => 4,
        "I64" or "U64" or "F64" => 8,
        _ => 0,
    };

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFileException(source, $"has a {MetadataKey} that is not a JSON object.");
        }

        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new ModelFileException(source, $"has a {MetadataKey} entry '{item.Name}' that is not a string.");
            }

            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw new ModelFileException(source, $"names the {MetadataKey} entry '{item.Name}' twice.");
            }
        }
    }

    private static SafeTensorsEntry ReadEntry(string name, JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFileException(source, $"describes tensor '{name}' with something other than a JSON object.");
        }

        string? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtype is null && field.Value.ValueKind == JsonValueKind.String:
                    dtype = field.Value.GetString()!;
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(field.Value, name, "shape", source);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(field.Value, name, "data_offsets", source);
                    break;
                default:
                    throw new ModelFileException(source, $"tensor '{name}' has an unexpected, repeated or mistyped field '{field.Name}'.");
            }
        }

        if (dtype is null || shape is null || offsets is null)
        {
            throw new ModelFileException(source, $"tensor '{name}' lacks one of dtype, shape and data_offsets.");
        }

        var width = ElementSize(dtype);
        if (width == 0)
        {
            throw new ModelFileException(source, $"tensor '{name}' has dtype '{dtype}', which the safetensors format does not define.");
        }

        if (offsets.Length != 2 || offsets[1] < offsets[0])
        {
            throw new ModelFileException(source,
                $"tensor '{name}' has data_offsets [{string.Join(", ", offsets)}], not a [begin, end] pair with begin <= end.");
        }

        // Every product is checked against the byte range, so a hostile shape cannot make anything large.
        long elements = 1;
        foreach (var dimension in shape)
        {
            if (dimension != 0 && elements > (offsets[1] - offsets[0]) / dimension)
            {
                elements = -1;
                break;
            }

            elements *= dimension;
        }

        // elements <= range here, so elements * width cannot wrap once elements <= range / width.
        if (elements < 0 || elements > (offsets[1] - offsets[0]) / width || elements * width != offsets[1] - offsets[0])
        {
            throw new ModelFileException(source,
                $"tensor '{name}' of dtype {dtype} and shape [{string.Join(", ", shape)}] does not fill its {offsets[1] - offsets[0]} bytes [{offsets[0]}, " +
                    $"{offsets[1]}).");
        }

        return new SafeTensorsEntry(name, dtype, shape, offsets[0], offsets[1], elements);
    }

    private static long[] ReadIntegers(JsonElement value, string name, string field, string source)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > 64)
        {
            throw new ModelFileException(source, $"tensor '{name}' has a {field} that is not a short JSON array.");
        }

        var result = new long[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number) || number < 0)
            {
                throw new ModelFileException(source, $"tensor '{name}' has a {field} entry '{item.GetRawText()}' that is not a non-negative integer.");
            }

            result[i++] = number;
        }

        return result;
    }

    private static void CheckTiling(List<SafeTensorsEntry> entries, int dataLength, string source)
    {
        entries.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var entry in entries)
        {
            if (entry.Start != expected)
            {
                throw new ModelFileException(source, entry.Start > expected
                    ? $"leaves bytes [{expected}, {entry.Start}) of its data unused before tensor '{entry.Name}'; the format allows no holes."
                    : $"has tensor '{entry.Name}' at bytes [{entry.Start}, {entry.End}), overlapping the tensor before it (which ends at {expected}).");
            }

            expected = entry.End;
        }

        if (expected != dataLength)
        {
            throw new ModelFileException(source, expected < dataLength
                ? $"has {dataLength - expected} bytes after its last tensor (data ends at {expected}, the file holds {dataLength}); the format allows none."
                : $"declares {expected} data bytes but holds {dataLength}; it is truncated.");
        }
    }

    private void CheckFinite(SafeTensorsEntry entry)
    {
        var bytes = GetBytes(entry);
        var index = entry.DType switch
        {
            "F32" => FirstNonFinite<int>(bytes, 0x7F80_0000),
            "F64" => FirstNonFinite<long>(bytes, 0x7FF0_0000_0000_0000),
            _ => -1,
        };
        if (index >= 0)
        {
            throw new ModelFileException(Source,
                $"tensor '{entry.Name}' holds a NaN or infinite value at element {index}; the weights are unusable (the training run diverged or the file is " +
                    $"damaged).");
        }
    }

    // A float is NaN or infinite exactly when all its exponent bits are set; read as little-endian integers.
    private static long FirstNonFinite<T>(ReadOnlySpan<byte> bytes, T exponentMask)
        where T : struct, System.Numerics.IBinaryInteger<T>
    {
        var width = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        for (var i = 0; i < bytes.Length / width; i++)
        {
            var bits = width == 4
                ? T.CreateTruncating(BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * width)..]))
                : T.CreateTruncating(BinaryPrimitives.ReadInt64LittleEndian(bytes[(i * width)..]));
            if ((bits & exponentMask) == exponentMask)
            {
                return i;
            }
        }

        return -1;
    }
}
