using System.Numerics;
using System.Runtime.CompilerServices;

namespace MnistCnn.Core.Data;

/// <summary>
/// Converts pixel bytes to floats as <c>(p / 255f - mean) / std</c>, vectorised, with the same float32
/// operations (true division, not multiplication by a reciprocal) as torch's <c>to_type</c>, <c>div_</c>,
/// <c>sub_</c> and <c>div_</c>, so the results are equal bit for bit.
/// </summary>
internal static class PixelScaler
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(ReadOnlySpan<byte> source, Span<float> destination, PixelNormalization? normalization)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("The destination is shorter than the source.", nameof(destination));
        }

        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var quarter = Vector<float>.Count;
            for (; i <= source.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                Vector.Widen(new Vector<byte>(source[i..]), out var low, out var high);
                Vector.Widen(low, out var a, out var b);
                Vector.Widen(high, out var c, out var d);
                Store(a, destination[i..], normalization);
                Store(b, destination[(i + quarter)..], normalization);
                Store(c, destination[(i + (2 * quarter))..], normalization);
                Store(d, destination[(i + (3 * quarter))..], normalization);
            }
        }

        for (; i < source.Length; i++)
        {
            var scaled = source[i] / 255f;
            destination[i] = normalization is { } n ? (scaled - n.Mean) / n.StandardDeviation : scaled;
        }
    }

    private static void Store(Vector<uint> pixels, Span<float> destination, PixelNormalization? normalization)
    {
        var scaled = Vector.ConvertToSingle(pixels) / new Vector<float>(255f);
        if (normalization is { } n)
        {
            scaled = (scaled - new Vector<float>(n.Mean)) / new Vector<float>(n.StandardDeviation);
        }

        scaled.CopyTo(destination);
    }
}
