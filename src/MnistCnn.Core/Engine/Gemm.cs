using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// Float32 matrix products over row-major spans: single-threaded (callers split the work across threads
/// themselves), allocation-free after a thread's first transposed-B call, and deterministic.
/// </summary>
/// <remarks>
/// <para>
/// Order of the sums: every element of C starts from 0 (or from C when accumulating) and adds
/// <c>A[i, p] * B[p, j]</c> for p = 0, 1, ..., k-1, one multiply-add at a time, in that order, whatever the
/// variant, the sizes, the strides or the vector width. The width only decides how many elements of a row of C
/// are computed side by side, so every width gives the same sums; they are bit for bit the same wherever the
/// multiply-adds are rounded the same way (fused on x64 and Arm64; see <see cref="ISimdOps{TVector}.MultiplyAdd"/>).
/// </para>
/// <para>
/// Blocking: C is computed in tiles of 4 rows by 2 vectors of columns (8 accumulators, held in registers over the
/// whole of k), then single rows and single vectors for the edges; columns that fill no vector of the width in
/// use fall to the next narrower one, down to scalar code. A's elements are broadcast straight from memory, so
/// A and Aᵀ need no copy. For Bᵀ, each column panel (k by 2 vectors) is first copied into a thread's scratch
/// buffer in B's layout, then reused by every row tile.
/// </para>
/// </remarks>
internal static class Gemm
{
    private const int TileRows = 4;

    /// <summary>A thread's copy of the current column panel of Bᵀ (grows to the largest k x 2 vectors seen).</summary>
    [ThreadStatic]
    private static float[]? _panel;

    /// <summary><c>C[m x n] = (accumulate ? C : 0) + A[m x k] * B[k x n]</c>; rows of A, B, C start every lda, ldb, ldc floats.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or a stride is shorter than its row.</exception>
    /// <exception cref="ArgumentException">A span is too short for its rows and stride.</exception>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        CheckSizes(m, n, k);
        CheckMatrix(a.Length, m, k, lda, nameof(a), nameof(lda));
        CheckMatrix(b.Length, k, n, ldb, nameof(b), nameof(ldb));
        CheckMatrix(c.Length, m, n, ldc, nameof(c), nameof(ldc));
        Run(m, n, k, ref MemoryMarshal.GetReference(a), lda, 1, ref MemoryMarshal.GetReference(b), ldb, false, ref MemoryMarshal.GetReference(c), ldc, accumulate);
    }

    /// <summary>The same with A stored transposed: <paramref name="a"/> is k x m (row stride lda &gt;= m), <c>C (+)= Aᵀ·B</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or a stride is shorter than its row.</exception>
    /// <exception cref="ArgumentException">A span is too short for its rows and stride.</exception>
    public static void MultiplyTransposedA(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        CheckSizes(m, n, k);
        CheckMatrix(a.Length, k, m, lda, nameof(a), nameof(lda));
        CheckMatrix(b.Length, k, n, ldb, nameof(b), nameof(ldb));
        CheckMatrix(c.Length, m, n, ldc, nameof(c), nameof(ldc));
        Run(m, n, k, ref MemoryMarshal.GetReference(a), 1, lda, ref MemoryMarshal.GetReference(b), ldb, false, ref MemoryMarshal.GetReference(c), ldc, accumulate);
    }

    /// <summary>The same with B stored transposed: <paramref name="b"/> is n x k (row stride ldb &gt;= k), <c>C (+)= A·Bᵀ</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or a stride is shorter than its row.</exception>
    /// <exception cref="ArgumentException">A span is too short for its rows and stride.</exception>
    public static void MultiplyTransposedB(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        CheckSizes(m, n, k);
        CheckMatrix(a.Length, m, k, lda, nameof(a), nameof(lda));
        CheckMatrix(b.Length, n, k, ldb, nameof(b), nameof(ldb));
        CheckMatrix(c.Length, m, n, ldc, nameof(c), nameof(ldc));
        Run(m, n, k, ref MemoryMarshal.GetReference(a), lda, 1, ref MemoryMarshal.GetReference(b), ldb, true, ref MemoryMarshal.GetReference(c), ldc, accumulate);
    }

    private static void CheckSizes(int m, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
    }

    private static void CheckMatrix(int length, int rows, int columns, int stride, string name, string strideName)
    {
        if (stride < columns || stride < 0)
        {
            throw new ArgumentOutOfRangeException(strideName, stride, $"The row stride must be at least the row length, {columns}.");
        }

        var needed = rows == 0 || columns == 0 ? 0 : ((long)(rows - 1) * stride) + columns;
        if (length < needed)
        {
            throw new ArgumentException($"{rows} rows of {columns} floats every {stride} need {needed} floats; the span has {length}.", name);
        }
    }

    /// <summary>
    /// Every variant: A[i, p] is <c>a[i * aRow + p * aColumn]</c>; B is k x n, or, when
    /// <paramref name="transposedB"/>, stored n x k; both with row stride ldb.
    /// </summary>
    private static void Run(int m, int n, int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, bool transposedB, ref float c, nint ldc, bool accumulate)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            if (!accumulate)
            {
                for (var i = 0; i < m; i++)
                {
                    MemoryMarshal.CreateSpan(ref Unsafe.Add(ref c, i * ldc), n).Clear();
                }
            }

            return;
        }

        var matrices = new Operands(m, n, k, aRow, aColumn, ldb, transposedB, ldc, accumulate);
        var j = 0;
        var bits = VectorWidth.Bits;
        if (bits >= 512)
        {
            Columns<Simd512, Vector512<float>>(in matrices, ref a, ref b, ref c, ref j);
        }

        if (bits >= 256)
        {
            Columns<Simd256, Vector256<float>>(in matrices, ref a, ref b, ref c, ref j);
        }

        if (bits >= 128)
        {
            Columns<Simd128, Vector128<float>>(in matrices, ref a, ref b, ref c, ref j);
        }

        Columns<SimdScalar, float>(in matrices, ref a, ref b, ref c, ref j);
    }

    /// <summary>Computes the columns from <paramref name="j"/> on that fill whole vectors, and moves j past them.</summary>
    private static void Columns<TOps, TVector>(in Operands o, ref float a, ref float b, ref float c, ref int j)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        var width = TOps.Count;
        for (; j + (2 * width) <= o.N; j += 2 * width)
        {
            ref var rows = ref PanelOfB(in o, ref b, j, 2 * width, out var stride);
            var i = 0;
            for (; i + TileRows <= o.M; i += TileRows)
            {
                Tile4x2<TOps, TVector>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.ARow, o.AColumn, ref rows, stride, ref Unsafe.Add(ref c, (i * o.Ldc) + j), o.Ldc, o.Accumulate);
            }

            for (; i < o.M; i++)
            {
                Tile1x2<TOps, TVector>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.AColumn, ref rows, stride, ref Unsafe.Add(ref c, (i * o.Ldc) + j), o.Accumulate);
            }
        }

        for (; j + width <= o.N; j += width)
        {
            ref var rows = ref PanelOfB(in o, ref b, j, width, out var stride);
            var i = 0;
            for (; i + TileRows <= o.M; i += TileRows)
            {
                Tile4x1<TOps, TVector>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.ARow, o.AColumn, ref rows, stride, ref Unsafe.Add(ref c, (i * o.Ldc) + j), o.Ldc, o.Accumulate);
            }

            for (; i < o.M; i++)
            {
                Tile1x1<TOps, TVector>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.AColumn, ref rows, stride, ref Unsafe.Add(ref c, (i * o.Ldc) + j), o.Accumulate);
            }
        }
    }

    /// <summary>
    /// Where columns j to j + width - 1 of B start, as k rows every <paramref name="stride"/> floats: in B itself,
    /// or, for Bᵀ, in this thread's panel after copying them there.
    /// </summary>
    private static ref float PanelOfB(in Operands o, ref float b, int j, int width, out nint stride)
    {
        if (!o.TransposedB)
        {
            stride = o.Ldb;
            return ref Unsafe.Add(ref b, j);
        }

        var size = o.K * width;
        var buffer = _panel;
        if (buffer is null || buffer.Length < size)
        {
            _panel = buffer = new float[Math.Max(size, 64 * 64)];
        }

        ref var target = ref MemoryMarshal.GetArrayDataReference(buffer);
        for (var column = 0; column < width; column++)
        {
            ref var source = ref Unsafe.Add(ref b, (j + column) * o.Ldb);
            for (var p = 0; p < o.K; p++)
            {
                Unsafe.Add(ref target, (p * width) + column) = Unsafe.Add(ref source, p);
            }
        }

        stride = width;
        return ref target;
    }

    private static void Tile4x2<TOps, TVector>(int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, ref float c, nint ldc, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        nint v = TOps.Count;
        ref var c0 = ref c;
        ref var c1 = ref Unsafe.Add(ref c, ldc);
        ref var c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref var c3 = ref Unsafe.Add(ref c, 3 * ldc);
        TVector s00, s01, s10, s11, s20, s21, s30, s31;
        if (accumulate)
        {
            s00 = TOps.Load(ref c0);
            s01 = TOps.Load(ref Unsafe.Add(ref c0, v));
            s10 = TOps.Load(ref c1);
            s11 = TOps.Load(ref Unsafe.Add(ref c1, v));
            s20 = TOps.Load(ref c2);
            s21 = TOps.Load(ref Unsafe.Add(ref c2, v));
            s30 = TOps.Load(ref c3);
            s31 = TOps.Load(ref Unsafe.Add(ref c3, v));
        }
        else
        {
            s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = TOps.Zero;
        }

        ref var a0 = ref a;
        ref var a1 = ref Unsafe.Add(ref a, aRow);
        ref var a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref var a3 = ref Unsafe.Add(ref a, 3 * aRow);
        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            var b0 = TOps.Load(ref bp);
            var b1 = TOps.Load(ref Unsafe.Add(ref bp, v));
            var x = TOps.Broadcast(Unsafe.Add(ref a0, ap));
            s00 = TOps.MultiplyAdd(x, b0, s00);
            s01 = TOps.MultiplyAdd(x, b1, s01);
            x = TOps.Broadcast(Unsafe.Add(ref a1, ap));
            s10 = TOps.MultiplyAdd(x, b0, s10);
            s11 = TOps.MultiplyAdd(x, b1, s11);
            x = TOps.Broadcast(Unsafe.Add(ref a2, ap));
            s20 = TOps.MultiplyAdd(x, b0, s20);
            s21 = TOps.MultiplyAdd(x, b1, s21);
            x = TOps.Broadcast(Unsafe.Add(ref a3, ap));
            s30 = TOps.MultiplyAdd(x, b0, s30);
            s31 = TOps.MultiplyAdd(x, b1, s31);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        TOps.Store(s00, ref c0);
        TOps.Store(s01, ref Unsafe.Add(ref c0, v));
        TOps.Store(s10, ref c1);
        TOps.Store(s11, ref Unsafe.Add(ref c1, v));
        TOps.Store(s20, ref c2);
        TOps.Store(s21, ref Unsafe.Add(ref c2, v));
        TOps.Store(s30, ref c3);
        TOps.Store(s31, ref Unsafe.Add(ref c3, v));
    }

    private static void Tile1x2<TOps, TVector>(int k, ref float a, nint aColumn, ref float b, nint ldb, ref float c, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        nint v = TOps.Count;
        TVector s0, s1;
        if (accumulate)
        {
            s0 = TOps.Load(ref c);
            s1 = TOps.Load(ref Unsafe.Add(ref c, v));
        }
        else
        {
            s0 = s1 = TOps.Zero;
        }

        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            var x = TOps.Broadcast(Unsafe.Add(ref a, ap));
            s0 = TOps.MultiplyAdd(x, TOps.Load(ref bp), s0);
            s1 = TOps.MultiplyAdd(x, TOps.Load(ref Unsafe.Add(ref bp, v)), s1);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        TOps.Store(s0, ref c);
        TOps.Store(s1, ref Unsafe.Add(ref c, v));
    }

    private static void Tile4x1<TOps, TVector>(int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, ref float c, nint ldc, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        ref var c0 = ref c;
        ref var c1 = ref Unsafe.Add(ref c, ldc);
        ref var c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref var c3 = ref Unsafe.Add(ref c, 3 * ldc);
        TVector s0, s1, s2, s3;
        if (accumulate)
        {
            s0 = TOps.Load(ref c0);
            s1 = TOps.Load(ref c1);
            s2 = TOps.Load(ref c2);
            s3 = TOps.Load(ref c3);
        }
        else
        {
            s0 = s1 = s2 = s3 = TOps.Zero;
        }

        ref var a0 = ref a;
        ref var a1 = ref Unsafe.Add(ref a, aRow);
        ref var a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref var a3 = ref Unsafe.Add(ref a, 3 * aRow);
        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            var b0 = TOps.Load(ref bp);
            s0 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a0, ap)), b0, s0);
            s1 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a1, ap)), b0, s1);
            s2 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a2, ap)), b0, s2);
            s3 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a3, ap)), b0, s3);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        TOps.Store(s0, ref c0);
        TOps.Store(s1, ref c1);
        TOps.Store(s2, ref c2);
        TOps.Store(s3, ref c3);
    }

    private static void Tile1x1<TOps, TVector>(int k, ref float a, nint aColumn, ref float b, nint ldb, ref float c, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        var s = accumulate ? TOps.Load(ref c) : TOps.Zero;
        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            s = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref a, ap)), TOps.Load(ref bp), s);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        TOps.Store(s, ref c);
    }

    /// <summary>The sizes, strides and options of one call, passed down by reference.</summary>
    private readonly struct Operands(int m, int n, int k, nint aRow, nint aColumn, nint ldb, bool transposedB, nint ldc, bool accumulate)
    {
        public int M { get; } = m;

        public int N { get; } = n;

        public int K { get; } = k;

        public nint ARow { get; } = aRow;

        public nint AColumn { get; } = aColumn;

        public nint Ldb { get; } = ldb;

        public bool TransposedB { get; } = transposedB;

        public nint Ldc { get; } = ldc;

        public bool Accumulate { get; } = accumulate;
    }
}
