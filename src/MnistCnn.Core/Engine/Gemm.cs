using System.Numerics;
using System.Runtime.CompilerServices;

namespace MnistCnn.Core.Engine;

/// <summary>
/// Float32 matrix products over row-major spans, single-threaded and allocation-free: callers split the work
/// across threads themselves. Every element of C is summed over k in one fixed order (ascending k, in
/// <see cref="Vector{T}"/> lanes for <see cref="MultiplyTransposedB"/>), which depends only on the sizes, never on timing.
/// </summary>
internal static class Gemm
{
    /// <summary><c>C[m x n] = (accumulate ? C : 0) + A[m x k] * B[k x n]</c>; rows of A, B, C start every lda, ldb, ldc floats.</summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        for (var i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (!accumulate)
            {
                row.Clear();
            }

            for (var p = 0; p < k; p++)
            {
                AddScaled(row, a[(i * lda) + p], b.Slice(p * ldb, n));
            }
        }
    }

    /// <summary>The same with A stored transposed: <paramref name="a"/> is k x m (row stride lda &gt;= m), <c>C (+)= Aᵀ·B</c>.</summary>
    public static void MultiplyTransposedA(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        for (var i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (!accumulate)
            {
                row.Clear();
            }

            for (var p = 0; p < k; p++)
            {
                AddScaled(row, a[(p * lda) + i], b.Slice(p * ldb, n));
            }
        }
    }

    /// <summary>The same with B stored transposed: <paramref name="b"/> is n x k (row stride ldb &gt;= k), <c>C (+)= A·Bᵀ</c>.</summary>
    public static void MultiplyTransposedB(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        for (var i = 0; i < m; i++)
        {
            var x = a.Slice(i * lda, k);
            for (var j = 0; j < n; j++)
            {
                var dot = Dot(x, b.Slice(j * ldb, k));
                c[(i * ldc) + j] = accumulate ? c[(i * ldc) + j] + dot : dot;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScaled(Span<float> destination, float scale, ReadOnlySpan<float> source)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<float>(scale);
            for (; i + Vector<float>.Count <= destination.Length; i += Vector<float>.Count)
            {
                var d = new Vector<float>(destination[i..]);
                Vector.FusedMultiplyAdd(new Vector<float>(source[i..]), s, d).CopyTo(destination[i..]);
            }
        }

        for (; i < destination.Length; i++)
        {
            destination[i] = MathF.FusedMultiplyAdd(source[i], scale, destination[i]);
        }
    }

    private static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        var i = 0;
        var sum = 0f;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var lanes = Vector<float>.Zero;
            for (; i + Vector<float>.Count <= x.Length; i += Vector<float>.Count)
            {
                lanes = Vector.FusedMultiplyAdd(new Vector<float>(x[i..]), new Vector<float>(y[i..]), lanes);
            }

            sum = Vector.Sum(lanes);
        }

        for (; i < x.Length; i++)
        {
            sum = MathF.FusedMultiplyAdd(x[i], y[i], sum);
        }

        return sum;
    }
}
