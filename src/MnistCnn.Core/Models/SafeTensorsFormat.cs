using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>
/// Reads and writes the safetensors layout: an 8-byte little-endian header length, a JSON header mapping
/// each tensor name to its dtype, shape and byte range, then the raw little-endian data.
/// </summary>
/// <remarks>The layout is simple enough that PyTorch reads and writes it with a few lines and no package.</remarks>
internal static class SafeTensorsFormat
{
    private const long MaxHeaderBytes = 100_000_000;

    public static byte[] Write(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Writing safetensors needs a little-endian machine.");
        }

        var blobs = new List<(string Name, string DType, long[] Shape, byte[] Data)>();
        foreach (var (name, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            // detach() and cpu() return new tensors too: the scope disposes every one, not only the last.
            using var scope = NewDisposeScope();
            var cpu = tensor.detach().cpu().contiguous();
            var (dtype, data) = cpu.dtype switch
            {
                ScalarType.Float32 => ("F32", MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()).ToArray()),
                ScalarType.Float64 => ("F64", MemoryMarshal.AsBytes(cpu.data<double>().ToArray().AsSpan()).ToArray()),
                ScalarType.Int64 => ("I64", MemoryMarshal.AsBytes(cpu.data<long>().ToArray().AsSpan()).ToArray()),
                ScalarType.Int32 => ("I32", MemoryMarshal.AsBytes(cpu.data<int>().ToArray().AsSpan()).ToArray()),
                ScalarType.Byte => ("U8", cpu.data<byte>().ToArray()),
                _ => throw new NotSupportedException($"Tensor '{name}' has type {cpu.dtype}, which this writer does not support."),
            };
            blobs.Add((name, dtype, cpu.shape, data));
        }

        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
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

        // The header is padded with spaces to a multiple of 8 bytes, as the format recommends.
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

    /// <summary>Parses a safetensors image; the caller owns (disposes) the returned tensors.</summary>
    public static Dictionary<string, Tensor> Read(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < 8)
        {
            throw new ModelFileException(source, $"holds {bytes.Length} bytes, fewer than a safetensors header needs.");
        }

        var headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (headerLength <= 1 || headerLength > MaxHeaderBytes || headerLength > bytes.Length - 8)
        {
            throw new ModelFileException(source, $"declares a header of {headerLength} bytes in a file of {bytes.Length} bytes; it is not a safetensors file or is truncated.");
        }

        var data = bytes[(8 + (int)headerLength)..];
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(Encoding.UTF8.GetString(bytes.Slice(8, (int)headerLength)));
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    continue;
                }

                var dtype = entry.Value.GetProperty("dtype").GetString();
                var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var elements = shape.Aggregate(1L, (a, b) => checked(a * b));
                var width = dtype switch
                {
                    "F32" or "I32" => 4,
                    "F64" or "I64" => 8,
                    "U8" => 1,
                    _ => throw new ModelFileException(source, $"tensor '{entry.Name}' has dtype {dtype}, which is not supported (F32, F64, I32, I64, U8)."),
                };
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] > data.Length || offsets[1] - offsets[0] != elements * width)
                {
                    throw new ModelFileException(source, $"tensor '{entry.Name}' declares bytes [{string.Join(", ", offsets)}] that do not fit its shape [{string.Join(", ", shape)}] or the file's {data.Length} data bytes.");
                }

                var slice = data.Slice((int)offsets[0], (int)(offsets[1] - offsets[0]));
                result[entry.Name] = dtype switch
                {
                    "F32" => tensor(MemoryMarshal.Cast<byte, float>(slice).ToArray(), shape),
                    "F64" => tensor(MemoryMarshal.Cast<byte, double>(slice).ToArray(), shape),
                    "I32" => tensor(MemoryMarshal.Cast<byte, int>(slice).ToArray(), shape),
                    "I64" => tensor(MemoryMarshal.Cast<byte, long>(slice).ToArray(), shape),
                    _ => tensor(slice.ToArray(), shape),
                };
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            foreach (var t in result.Values)
            {
                t.Dispose();
            }

            throw new ModelFileException(source, $"has a malformed safetensors header ({e.Message}).", e);
        }
        catch
        {
            foreach (var t in result.Values)
            {
                t.Dispose();
            }

            throw;
        }

        return result;
    }
}
