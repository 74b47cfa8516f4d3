using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>
/// Moves tensors to and from the safetensors layout. Parsing, validation and the byte layout are
/// <see cref="SafeTensorsFile"/>'s (managed code only); this class adds what needs torch: reading tensors'
/// data out of torch and creating tensors from a parsed file.
/// </summary>
/// <remarks>The layout is simple enough that PyTorch reads and writes it with a few lines and no package.</remarks>
internal static class SafeTensorsFormat
{
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

        return SafeTensorsFile.Write(blobs, metadata);
    }

    /// <summary>Parses a safetensors image; the caller owns (disposes) the returned tensors.</summary>
    /// <exception cref="ModelFileException">The image is invalid (see <see cref="SafeTensorsFile"/>) or holds a dtype
    /// torch tensors are not made from here.</exception>
    public static Dictionary<string, Tensor> Read(ReadOnlySpan<byte> bytes, string source) => Read(SafeTensorsFile.Parse(bytes.ToArray(), source));

    /// <summary>Creates a tensor per entry of a parsed file; the caller owns (disposes) them.</summary>
    public static Dictionary<string, Tensor> Read(SafeTensorsFile file)
    {
        var unsupported = file.Entries.FirstOrDefault(e => e.DType is not ("F32" or "F64" or "I32" or "I64" or "U8"));
        if (unsupported.Name is not null)
        {
            throw new ModelFileException(file.Source,
                $"tensor '{unsupported.Name}' has dtype {unsupported.DType}, which is not supported here (F32, F64, I32, I64, U8).");
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in file.Entries)
            {
                var bytes = file.GetBytes(entry);
                result[entry.Name] = entry.DType switch
                {
                    "F32" => tensor(Copy<float>(bytes), entry.Shape),
                    "F64" => tensor(Copy<double>(bytes), entry.Shape),
                    "I32" => tensor(Copy<int>(bytes), entry.Shape),
                    "I64" => tensor(Copy<long>(bytes), entry.Shape),
                    _ => tensor(bytes.ToArray(), entry.Shape),
                };
            }
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

    private static T[] Copy<T>(ReadOnlySpan<byte> bytes)
        where T : unmanaged
    {
        var values = new T[bytes.Length / Marshal.SizeOf<T>()];
        SafeTensorsFile.CopyLittleEndian(bytes, MemoryMarshal.AsBytes(values.AsSpan()), Marshal.SizeOf<T>());
        return values;
    }
}
