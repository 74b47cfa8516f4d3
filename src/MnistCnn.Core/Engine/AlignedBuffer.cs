using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MnistCnn.Core.Engine;

/// <summary>
/// Floats whose first element starts a 64-byte cache line: a pinned array and an offset into it. A .NET array's
/// elements start wherever the allocator put the object (8-byte steps), so a 32-byte vector loaded from it crosses a
/// cache line every other time; from these, whole vectors at multiples of 16 floats never do.
/// </summary>
internal sealed class AlignedBuffer
{
    /// <summary>Floats in a 64-byte cache line: an offset that is a multiple of it keeps a buffer's alignment.</summary>
    public const int AlignmentFloats = Alignment / sizeof(float);

    private const int Alignment = 64;
    private readonly float[] _array;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed floats.</summary>
    public unsafe AlignedBuffer(int length)
    {
        _array = GC.AllocateArray<float>(length + AlignmentFloats, pinned: true);
        var address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        _offset = (int)((Alignment - (address % Alignment)) % Alignment) / sizeof(float);
        Length = length;
    }

    /// <summary>The floats available.</summary>
    public int Length { get; }

    /// <summary>The floats, from the aligned first one.</summary>
    public Span<float> Span => _array.AsSpan(_offset, Length);
}
