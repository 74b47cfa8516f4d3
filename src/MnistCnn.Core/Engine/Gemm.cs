using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// The exception is A·Bᵀ with fewer than 6 rows (one image through a linear layer): dot products in lanes of the
/// vector width (see <c>DotRows</c>), so there the order depends on the width too. Either way an element's sum does
/// not depend on where it lies in C, so a product split into column blocks gives the whole product's bits.
/// </para>
/// <para>
/// Blocking: C is computed in tiles of 6 rows by 4 vectors of columns with 512-bit vectors (24 accumulators of
/// AVX-512's 32 registers), by 2 vectors at the other widths (12 of 16), held in registers over the whole of k;
/// then single rows, and narrower column tiles, for the edges; columns that fill no vector of the width in use
/// fall to the next narrower one, down to scalar code. A's elements are broadcast straight from memory, so A and
/// Aᵀ need no copy. For Bᵀ, each column panel (k rows of the tile's width) is first copied into a thread's
/// scratch buffer in B's layout (4 x 4 blocks transposed in registers on x64), then reused by every row tile.
/// </para>
/// </remarks>
internal static class Gemm
{
    /// <summary>
    /// A·Bᵀ with fewer rows than this is computed as dot products of A's and B's rows: a panel of Bᵀ would be
    /// copied for too few rows to pay (one image's linear layer has m = 1).
    /// </summary>
    private const int DotRowsBelow = 6;

    /// <summary>A thread's copy of the current column panel of Bᵀ (grows to the largest k x 4 vectors seen).</summary>
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
        Run(m, n, k, ref MemoryMarshal.GetReference(a), lda, 1, ref MemoryMarshal.GetReference(b), ldb, false, ref MemoryMarshal.GetReference(c), ldc,
            accumulate);
    }

    /// <summary>The same with A stored transposed: <paramref name="a"/> is k x m (row stride lda &gt;= m), <c>C (+)= Aᵀ·B</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or a stride is shorter than its row.</exception>
    /// <exception cref="ArgumentException">A span is too short for its rows and stride.</exception>
    public static void MultiplyTransposedA(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate)
    {
        CheckSizes(m, n, k);
        CheckMatrix(a.Length, k, m, lda, nameof(a), nameof(lda));
        CheckMatrix(b.Length, k, n, ldb, nameof(b), nameof(ldb));
        CheckMatrix(c.Length, m, n, ldc, nameof(c), nameof(ldc));
        Run(m, n, k, ref MemoryMarshal.GetReference(a), 1, lda, ref MemoryMarshal.GetReference(b), ldb, false, ref MemoryMarshal.GetReference(c), ldc,
            accumulate);
    }

    /// <summary>The same with B stored transposed: <paramref name="b"/> is n x k (row stride ldb &gt;= k), <c>C (+)= A·Bᵀ</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or a stride is shorter than its row.</exception>
    /// <exception cref="ArgumentException">A span is too short for its rows and stride.</exception>
    public static void MultiplyTransposedB(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate)
    {
        CheckSizes(m, n, k);
        CheckMatrix(a.Length, m, k, lda, nameof(a), nameof(lda));
        CheckMatrix(b.Length, n, k, ldb, nameof(b), nameof(ldb));
        CheckMatrix(c.Length, m, n, ldc, nameof(c), nameof(ldc));
        Run(m, n, k, ref MemoryMarshal.GetReference(a), lda, 1, ref MemoryMarshal.GetReference(b), ldb, true, ref MemoryMarshal.GetReference(c), ldc,
            accumulate);
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
    private static void Run(int m, int n, int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, bool transposedB, ref float c, nint ldc,
        bool accumulate)
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

        var bits = VectorWidth.Bits;
        if (transposedB && m < DotRowsBelow)
        {
            switch (bits)
            {
                case >= 512:
                    DotRows<Simd512, Vector512<float>>(m, n, k, ref a, aRow, ref b, ldb, ref c, ldc, accumulate);
                    break;
                case >= 256:
                    DotRows<Simd256, Vector256<float>>(m, n, k, ref a, aRow, ref b, ldb, ref c, ldc, accumulate);
                    break;
                case >= 128:
                    DotRows<Simd128, Vector128<float>>(m, n, k, ref a, aRow, ref b, ldb, ref c, ldc, accumulate);
                    break;
                default:
                    DotRows<SimdScalar, float>(m, n, k, ref a, aRow, ref b, ldb, ref c, ldc, accumulate);
                    break;
            }

            return;
        }

        var matrices = new Operands(m, n, k, aRow, aColumn, ldb, transposedB, ldc, accumulate);
        var j = 0;
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
        if (width == Vector512<float>.Count)
        {
            // AVX-512 has 32 registers: 6 x 4 accumulators, 4 of B and a broadcast fit.
            for (; j + (4 * width) <= o.N; j += 4 * width)
            {
                ref var panel = ref PanelOfB(in o, ref b, j, 4 * width, out var stride);
                ref var cj = ref Unsafe.Add(ref c, j);
                var i = 0;
                for (; i + 6 <= o.M; i += 6)
                {
                    Tile6x4<TOps, TVector>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.ARow, o.AColumn, ref panel, stride, ref Unsafe.Add(ref cj, i * o.Ldc),
                        o.Ldc, o.Accumulate);
                }

                for (; i < o.M; i++)
                {
                    Tile1x4<TOps, TVector>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.ARow, o.AColumn, ref panel, stride, ref Unsafe.Add(ref cj, i * o.Ldc),
                        o.Ldc, o.Accumulate);
                }
            }
        }

        // 6 x 2 accumulators, 2 of B and a broadcast fit in the 16 registers of AVX2 or SSE.
        for (; j + (2 * width) <= o.N; j += 2 * width)
        {
            ref var panel = ref PanelOfB(in o, ref b, j, 2 * width, out var stride);
            ref var cj = ref Unsafe.Add(ref c, j);
            var i = 0;
            for (; i + 6 <= o.M; i += 6)
            {
                Tile6x2<TOps, TVector>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.ARow, o.AColumn, ref panel, stride, ref Unsafe.Add(ref cj, i * o.Ldc), o.Ldc,
                    o.Accumulate);
            }

            for (; i < o.M; i++)
            {
                Tile1x2<TOps, TVector>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.ARow, o.AColumn, ref panel, stride, ref Unsafe.Add(ref cj, i * o.Ldc), o.Ldc,
                    o.Accumulate);
            }
        }

        for (; j + width <= o.N; j += width)
        {
            ref var panel = ref PanelOfB(in o, ref b, j, width, out var stride);
            ref var cj = ref Unsafe.Add(ref c, j);
            var i = 0;
            for (; i + 4 <= o.M; i += 4)
            {
                Tile4x1<TOps, TVector>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.ARow, o.AColumn, ref panel, stride, ref Unsafe.Add(ref cj, i * o.Ldc), o.Ldc,
                    o.Accumulate);
            }

            for (; i < o.M; i++)
            {
                Tile1x1<TOps, TVector>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.ARow, o.AColumn, ref panel, stride, ref Unsafe.Add(ref cj, i * o.Ldc), o.Ldc,
                    o.Accumulate);
            }
        }
    }

    /// <summary>
    /// C (+)= A·Bᵀ row by row as dot products over k, four rows of Bᵀ at a time: lane l of a vector accumulates
    /// the products at p = l, l + width, ... in order, the lanes are summed, then the last k mod width products are
    /// added one by one, then C when accumulating. The same for every element, wherever it lies.
    /// </summary>
    private static void DotRows<TOps, TVector>(int m, int n, int k, ref float a, nint lda, ref float b, nint ldb, ref float c, nint ldc, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        var width = TOps.Count;
        var vectorEnd = k - (k % width);
        for (var i = 0; i < m; i++)
        {
            ref var row = ref Unsafe.Add(ref a, i * lda);
            ref var target = ref Unsafe.Add(ref c, i * ldc);
            var j = 0;
            for (; j + 4 <= n; j += 4)
            {
                ref var b0 = ref Unsafe.Add(ref b, j * ldb);
                ref var b1 = ref Unsafe.Add(ref b0, ldb);
                ref var b2 = ref Unsafe.Add(ref b0, 2 * ldb);
                ref var b3 = ref Unsafe.Add(ref b0, 3 * ldb);
                TVector s0 = TOps.Zero, s1 = TOps.Zero, s2 = TOps.Zero, s3 = TOps.Zero;
                for (var p = 0; p < vectorEnd; p += width)
                {
                    var x = TOps.Load(ref Unsafe.Add(ref row, p));
                    s0 = TOps.MultiplyAdd(x, TOps.Load(ref Unsafe.Add(ref b0, p)), s0);
                    s1 = TOps.MultiplyAdd(x, TOps.Load(ref Unsafe.Add(ref b1, p)), s1);
                    s2 = TOps.MultiplyAdd(x, TOps.Load(ref Unsafe.Add(ref b2, p)), s2);
                    s3 = TOps.MultiplyAdd(x, TOps.Load(ref Unsafe.Add(ref b3, p)), s3);
                }

                Unsafe.Add(ref target, j) = Finish(TOps.Sum(s0), vectorEnd, k, ref row, ref b0, accumulate, Unsafe.Add(ref target, j));
                Unsafe.Add(ref target, j + 1) = Finish(TOps.Sum(s1), vectorEnd, k, ref row, ref b1, accumulate, Unsafe.Add(ref target, j + 1));
                Unsafe.Add(ref target, j + 2) = Finish(TOps.Sum(s2), vectorEnd, k, ref row, ref b2, accumulate, Unsafe.Add(ref target, j + 2));
                Unsafe.Add(ref target, j + 3) = Finish(TOps.Sum(s3), vectorEnd, k, ref row, ref b3, accumulate, Unsafe.Add(ref target, j + 3));
            }

            for (; j < n; j++)
            {
                ref var bj = ref Unsafe.Add(ref b, j * ldb);
                var s = TOps.Zero;
                for (var p = 0; p < vectorEnd; p += width)
                {
                    s = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, p)), TOps.Load(ref Unsafe.Add(ref bj, p)), s);
                }

                Unsafe.Add(ref target, j) = Finish(TOps.Sum(s), vectorEnd, k, ref row, ref bj, accumulate, Unsafe.Add(ref target, j));
            }
        }
    }

    /// <summary>Adds the products from <paramref name="from"/> to k - 1 to <paramref name="sum"/> one by one, then C when accumulating.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(float sum, int from, int k, ref float a, ref float b, bool accumulate, float c)
    {
        for (var p = from; p < k; p++)
        {
            sum = float.MultiplyAddEstimate(Unsafe.Add(ref a, p), Unsafe.Add(ref b, p), sum);
        }

        return accumulate ? c + sum : sum;
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
        var column = 0;
        if (Sse.IsSupported)
        {
            // Four rows of Bᵀ at a time, transposed in 4 x 4 blocks: a quarter of the loads and stores of copying
            // float by float, which would otherwise cost a third as much as the multiply-adds when m is about 50.
            for (; column + 4 <= width; column += 4)
            {
                TransposeFourRows(o.K, ref Unsafe.Add(ref b, (j + column) * o.Ldb), o.Ldb, ref Unsafe.Add(ref target, column), width);
            }
        }

        for (; column < width; column++)
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

    /// <summary>Writes rows r..r+3 of a k-column matrix as columns of <paramref name="target"/> (row stride <paramref name="width"/>).</summary>
    private static void TransposeFourRows(int k, ref float source, nint ldb, ref float target, nint width)
    {
        ref var r0 = ref source;
        ref var r1 = ref Unsafe.Add(ref source, ldb);
        ref var r2 = ref Unsafe.Add(ref source, 2 * ldb);
        ref var r3 = ref Unsafe.Add(ref source, 3 * ldb);
        var p = 0;
        for (; p + 4 <= k; p += 4)
        {
            var x0 = Vector128.LoadUnsafe(ref r0, (nuint)p);
            var x1 = Vector128.LoadUnsafe(ref r1, (nuint)p);
            var x2 = Vector128.LoadUnsafe(ref r2, (nuint)p);
            var x3 = Vector128.LoadUnsafe(ref r3, (nuint)p);
            var low01 = Sse.UnpackLow(x0, x1); // x0[0] x1[0] x0[1] x1[1]
            var low23 = Sse.UnpackLow(x2, x3);
            var high01 = Sse.UnpackHigh(x0, x1); // x0[2] x1[2] x0[3] x1[3]
            var high23 = Sse.UnpackHigh(x2, x3);
            ref var t = ref Unsafe.Add(ref target, p * width);
            Sse.MoveLowToHigh(low01, low23).StoreUnsafe(ref t);
            Sse.MoveHighToLow(low23, low01).StoreUnsafe(ref Unsafe.Add(ref t, width));
            Sse.MoveLowToHigh(high01, high23).StoreUnsafe(ref Unsafe.Add(ref t, 2 * width));
            Sse.MoveHighToLow(high23, high01).StoreUnsafe(ref Unsafe.Add(ref t, 3 * width));
        }

        for (; p < k; p++)
        {
            ref var t = ref Unsafe.Add(ref target, p * width);
            t = Unsafe.Add(ref r0, p);
            Unsafe.Add(ref t, 1) = Unsafe.Add(ref r1, p);
            Unsafe.Add(ref t, 2) = Unsafe.Add(ref r2, p);
            Unsafe.Add(ref t, 3) = Unsafe.Add(ref r3, p);
        }
    }

    private static void Tile6x4<TOps, TVector>(int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, ref float c, nint ldc, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        nint v = TOps.Count;
        ref var c0 = ref Unsafe.Add(ref c, 0 * ldc);
        ref var c1 = ref Unsafe.Add(ref c, 1 * ldc);
        ref var c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref var c3 = ref Unsafe.Add(ref c, 3 * ldc);
        ref var c4 = ref Unsafe.Add(ref c, 4 * ldc);
        ref var c5 = ref Unsafe.Add(ref c, 5 * ldc);
        TVector s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33, s40, s41, s42, s43, s50, s51, s52, s53;
        if (accumulate)
        {
            s00 = TOps.Load(ref Unsafe.Add(ref c0, 0 * v));
            s01 = TOps.Load(ref Unsafe.Add(ref c0, 1 * v));
            s02 = TOps.Load(ref Unsafe.Add(ref c0, 2 * v));
            s03 = TOps.Load(ref Unsafe.Add(ref c0, 3 * v));
            s10 = TOps.Load(ref Unsafe.Add(ref c1, 0 * v));
            s11 = TOps.Load(ref Unsafe.Add(ref c1, 1 * v));
            s12 = TOps.Load(ref Unsafe.Add(ref c1, 2 * v));
            s13 = TOps.Load(ref Unsafe.Add(ref c1, 3 * v));
            s20 = TOps.Load(ref Unsafe.Add(ref c2, 0 * v));
            s21 = TOps.Load(ref Unsafe.Add(ref c2, 1 * v));
            s22 = TOps.Load(ref Unsafe.Add(ref c2, 2 * v));
            s23 = TOps.Load(ref Unsafe.Add(ref c2, 3 * v));
            s30 = TOps.Load(ref Unsafe.Add(ref c3, 0 * v));
            s31 = TOps.Load(ref Unsafe.Add(ref c3, 1 * v));
            s32 = TOps.Load(ref Unsafe.Add(ref c3, 2 * v));
            s33 = TOps.Load(ref Unsafe.Add(ref c3, 3 * v));
            s40 = TOps.Load(ref Unsafe.Add(ref c4, 0 * v));
            s41 = TOps.Load(ref Unsafe.Add(ref c4, 1 * v));
            s42 = TOps.Load(ref Unsafe.Add(ref c4, 2 * v));
            s43 = TOps.Load(ref Unsafe.Add(ref c4, 3 * v));
            s50 = TOps.Load(ref Unsafe.Add(ref c5, 0 * v));
            s51 = TOps.Load(ref Unsafe.Add(ref c5, 1 * v));
            s52 = TOps.Load(ref Unsafe.Add(ref c5, 2 * v));
            s53 = TOps.Load(ref Unsafe.Add(ref c5, 3 * v));
        }
        else
        {
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = s20 = s21 = s22 = s23 = TOps.Zero;
            s30 = s31 = s32 = s33 = s40 = s41 = s42 = s43 = s50 = s51 = s52 = s53 = TOps.Zero;
        }

        ref var a0 = ref Unsafe.Add(ref a, 0 * aRow);
        ref var a1 = ref Unsafe.Add(ref a, 1 * aRow);
        ref var a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref var a3 = ref Unsafe.Add(ref a, 3 * aRow);
        ref var a4 = ref Unsafe.Add(ref a, 4 * aRow);
        ref var a5 = ref Unsafe.Add(ref a, 5 * aRow);
        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            var b0 = TOps.Load(ref Unsafe.Add(ref bp, 0 * v));
            var b1 = TOps.Load(ref Unsafe.Add(ref bp, 1 * v));
            var b2 = TOps.Load(ref Unsafe.Add(ref bp, 2 * v));
            var b3 = TOps.Load(ref Unsafe.Add(ref bp, 3 * v));
            var x0 = TOps.Broadcast(Unsafe.Add(ref a0, ap));
            s00 = TOps.MultiplyAdd(x0, b0, s00);
            s01 = TOps.MultiplyAdd(x0, b1, s01);
            s02 = TOps.MultiplyAdd(x0, b2, s02);
            s03 = TOps.MultiplyAdd(x0, b3, s03);
            var x1 = TOps.Broadcast(Unsafe.Add(ref a1, ap));
            s10 = TOps.MultiplyAdd(x1, b0, s10);
            s11 = TOps.MultiplyAdd(x1, b1, s11);
            s12 = TOps.MultiplyAdd(x1, b2, s12);
            s13 = TOps.MultiplyAdd(x1, b3, s13);
            var x2 = TOps.Broadcast(Unsafe.Add(ref a2, ap));
            s20 = TOps.MultiplyAdd(x2, b0, s20);
            s21 = TOps.MultiplyAdd(x2, b1, s21);
            s22 = TOps.MultiplyAdd(x2, b2, s22);
            s23 = TOps.MultiplyAdd(x2, b3, s23);
            var x3 = TOps.Broadcast(Unsafe.Add(ref a3, ap));
            s30 = TOps.MultiplyAdd(x3, b0, s30);
            s31 = TOps.MultiplyAdd(x3, b1, s31);
            s32 = TOps.MultiplyAdd(x3, b2, s32);
            s33 = TOps.MultiplyAdd(x3, b3, s33);
            var x4 = TOps.Broadcast(Unsafe.Add(ref a4, ap));
            s40 = TOps.MultiplyAdd(x4, b0, s40);
            s41 = TOps.MultiplyAdd(x4, b1, s41);
            s42 = TOps.MultiplyAdd(x4, b2, s42);
            s43 = TOps.MultiplyAdd(x4, b3, s43);
            var x5 = TOps.Broadcast(Unsafe.Add(ref a5, ap));
            s50 = TOps.MultiplyAdd(x5, b0, s50);
            s51 = TOps.MultiplyAdd(x5, b1, s51);
            s52 = TOps.MultiplyAdd(x5, b2, s52);
            s53 = TOps.MultiplyAdd(x5, b3, s53);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        TOps.Store(s00, ref Unsafe.Add(ref c0, 0 * v));
        TOps.Store(s01, ref Unsafe.Add(ref c0, 1 * v));
        TOps.Store(s02, ref Unsafe.Add(ref c0, 2 * v));
        TOps.Store(s03, ref Unsafe.Add(ref c0, 3 * v));
        TOps.Store(s10, ref Unsafe.Add(ref c1, 0 * v));
        TOps.Store(s11, ref Unsafe.Add(ref c1, 1 * v));
        TOps.Store(s12, ref Unsafe.Add(ref c1, 2 * v));
        TOps.Store(s13, ref Unsafe.Add(ref c1, 3 * v));
        TOps.Store(s20, ref Unsafe.Add(ref c2, 0 * v));
        TOps.Store(s21, ref Unsafe.Add(ref c2, 1 * v));
        TOps.Store(s22, ref Unsafe.Add(ref c2, 2 * v));
        TOps.Store(s23, ref Unsafe.Add(ref c2, 3 * v));
        TOps.Store(s30, ref Unsafe.Add(ref c3, 0 * v));
        TOps.Store(s31, ref Unsafe.Add(ref c3, 1 * v));
        TOps.Store(s32, ref Unsafe.Add(ref c3, 2 * v));
        TOps.Store(s33, ref Unsafe.Add(ref c3, 3 * v));
        TOps.Store(s40, ref Unsafe.Add(ref c4, 0 * v));
        TOps.Store(s41, ref Unsafe.Add(ref c4, 1 * v));
        TOps.Store(s42, ref Unsafe.Add(ref c4, 2 * v));
        TOps.Store(s43, ref Unsafe.Add(ref c4, 3 * v));
        TOps.Store(s50, ref Unsafe.Add(ref c5, 0 * v));
        TOps.Store(s51, ref Unsafe.Add(ref c5, 1 * v));
        TOps.Store(s52, ref Unsafe.Add(ref c5, 2 * v));
        TOps.Store(s53, ref Unsafe.Add(ref c5, 3 * v));
    }

    private static void Tile6x2<TOps, TVector>(int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, ref float c, nint ldc, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        nint v = TOps.Count;
        ref var c0 = ref Unsafe.Add(ref c, 0 * ldc);
        ref var c1 = ref Unsafe.Add(ref c, 1 * ldc);
        ref var c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref var c3 = ref Unsafe.Add(ref c, 3 * ldc);
        ref var c4 = ref Unsafe.Add(ref c, 4 * ldc);
        ref var c5 = ref Unsafe.Add(ref c, 5 * ldc);
        TVector s00, s01, s10, s11, s20, s21, s30, s31, s40, s41, s50, s51;
        if (accumulate)
        {
            s00 = TOps.Load(ref Unsafe.Add(ref c0, 0 * v));
            s01 = TOps.Load(ref Unsafe.Add(ref c0, 1 * v));
            s10 = TOps.Load(ref Unsafe.Add(ref c1, 0 * v));
            s11 = TOps.Load(ref Unsafe.Add(ref c1, 1 * v));
            s20 = TOps.Load(ref Unsafe.Add(ref c2, 0 * v));
            s21 = TOps.Load(ref Unsafe.Add(ref c2, 1 * v));
            s30 = TOps.Load(ref Unsafe.Add(ref c3, 0 * v));
            s31 = TOps.Load(ref Unsafe.Add(ref c3, 1 * v));
            s40 = TOps.Load(ref Unsafe.Add(ref c4, 0 * v));
            s41 = TOps.Load(ref Unsafe.Add(ref c4, 1 * v));
            s50 = TOps.Load(ref Unsafe.Add(ref c5, 0 * v));
            s51 = TOps.Load(ref Unsafe.Add(ref c5, 1 * v));
        }
        else
        {
            s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = s40 = s41 = s50 = s51 = TOps.Zero;
        }

        ref var a0 = ref Unsafe.Add(ref a, 0 * aRow);
        ref var a1 = ref Unsafe.Add(ref a, 1 * aRow);
        ref var a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref var a3 = ref Unsafe.Add(ref a, 3 * aRow);
        ref var a4 = ref Unsafe.Add(ref a, 4 * aRow);
        ref var a5 = ref Unsafe.Add(ref a, 5 * aRow);
        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            var b0 = TOps.Load(ref Unsafe.Add(ref bp, 0 * v));
            var b1 = TOps.Load(ref Unsafe.Add(ref bp, 1 * v));
            var x0 = TOps.Broadcast(Unsafe.Add(ref a0, ap));
            s00 = TOps.MultiplyAdd(x0, b0, s00);
            s01 = TOps.MultiplyAdd(x0, b1, s01);
            var x1 = TOps.Broadcast(Unsafe.Add(ref a1, ap));
            s10 = TOps.MultiplyAdd(x1, b0, s10);
            s11 = TOps.MultiplyAdd(x1, b1, s11);
            var x2 = TOps.Broadcast(Unsafe.Add(ref a2, ap));
            s20 = TOps.MultiplyAdd(x2, b0, s20);
            s21 = TOps.MultiplyAdd(x2, b1, s21);
            var x3 = TOps.Broadcast(Unsafe.Add(ref a3, ap));
            s30 = TOps.MultiplyAdd(x3, b0, s30);
            s31 = TOps.MultiplyAdd(x3, b1, s31);
            var x4 = TOps.Broadcast(Unsafe.Add(ref a4, ap));
            s40 = TOps.MultiplyAdd(x4, b0, s40);
            s41 = TOps.MultiplyAdd(x4, b1, s41);
            var x5 = TOps.Broadcast(Unsafe.Add(ref a5, ap));
            s50 = TOps.MultiplyAdd(x5, b0, s50);
            s51 = TOps.MultiplyAdd(x5, b1, s51);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        TOps.Store(s00, ref Unsafe.Add(ref c0, 0 * v));
        TOps.Store(s01, ref Unsafe.Add(ref c0, 1 * v));
        TOps.Store(s10, ref Unsafe.Add(ref c1, 0 * v));
        TOps.Store(s11, ref Unsafe.Add(ref c1, 1 * v));
        TOps.Store(s20, ref Unsafe.Add(ref c2, 0 * v));
        TOps.Store(s21, ref Unsafe.Add(ref c2, 1 * v));
        TOps.Store(s30, ref Unsafe.Add(ref c3, 0 * v));
        TOps.Store(s31, ref Unsafe.Add(ref c3, 1 * v));
        TOps.Store(s40, ref Unsafe.Add(ref c4, 0 * v));
        TOps.Store(s41, ref Unsafe.Add(ref c4, 1 * v));
        TOps.Store(s50, ref Unsafe.Add(ref c5, 0 * v));
        TOps.Store(s51, ref Unsafe.Add(ref c5, 1 * v));
    }

    private static void Tile4x1<TOps, TVector>(int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, ref float c, nint ldc, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        nint v = TOps.Count;
        ref var c0 = ref Unsafe.Add(ref c, 0 * ldc);
        ref var c1 = ref Unsafe.Add(ref c, 1 * ldc);
        ref var c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref var c3 = ref Unsafe.Add(ref c, 3 * ldc);
        TVector s00, s10, s20, s30;
        if (accumulate)
        {
            s00 = TOps.Load(ref Unsafe.Add(ref c0, 0 * v));
            s10 = TOps.Load(ref Unsafe.Add(ref c1, 0 * v));
            s20 = TOps.Load(ref Unsafe.Add(ref c2, 0 * v));
            s30 = TOps.Load(ref Unsafe.Add(ref c3, 0 * v));
        }
        else
        {
            s00 = s10 = s20 = s30 = TOps.Zero;
        }

        ref var a0 = ref Unsafe.Add(ref a, 0 * aRow);
        ref var a1 = ref Unsafe.Add(ref a, 1 * aRow);
        ref var a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref var a3 = ref Unsafe.Add(ref a, 3 * aRow);
        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            var b0 = TOps.Load(ref Unsafe.Add(ref bp, 0 * v));
            var x0 = TOps.Broadcast(Unsafe.Add(ref a0, ap));
            s00 = TOps.MultiplyAdd(x0, b0, s00);
            var x1 = TOps.Broadcast(Unsafe.Add(ref a1, ap));
            s10 = TOps.MultiplyAdd(x1, b0, s10);
            var x2 = TOps.Broadcast(Unsafe.Add(ref a2, ap));
            s20 = TOps.MultiplyAdd(x2, b0, s20);
            var x3 = TOps.Broadcast(Unsafe.Add(ref a3, ap));
            s30 = TOps.MultiplyAdd(x3, b0, s30);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        TOps.Store(s00, ref Unsafe.Add(ref c0, 0 * v));
        TOps.Store(s10, ref Unsafe.Add(ref c1, 0 * v));
        TOps.Store(s20, ref Unsafe.Add(ref c2, 0 * v));
        TOps.Store(s30, ref Unsafe.Add(ref c3, 0 * v));
    }

    private static void Tile1x4<TOps, TVector>(int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, ref float c, nint ldc, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        nint v = TOps.Count;
        ref var c0 = ref Unsafe.Add(ref c, 0 * ldc);
        TVector s00, s01, s02, s03;
        if (accumulate)
        {
            s00 = TOps.Load(ref Unsafe.Add(ref c0, 0 * v));
            s01 = TOps.Load(ref Unsafe.Add(ref c0, 1 * v));
            s02 = TOps.Load(ref Unsafe.Add(ref c0, 2 * v));
            s03 = TOps.Load(ref Unsafe.Add(ref c0, 3 * v));
        }
        else
        {
            s00 = s01 = s02 = s03 = TOps.Zero;
        }

        ref var a0 = ref Unsafe.Add(ref a, 0 * aRow);
        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            var b0 = TOps.Load(ref Unsafe.Add(ref bp, 0 * v));
            var b1 = TOps.Load(ref Unsafe.Add(ref bp, 1 * v));
            var b2 = TOps.Load(ref Unsafe.Add(ref bp, 2 * v));
            var b3 = TOps.Load(ref Unsafe.Add(ref bp, 3 * v));
            var x0 = TOps.Broadcast(Unsafe.Add(ref a0, ap));
            s00 = TOps.MultiplyAdd(x0, b0, s00);
            s01 = TOps.MultiplyAdd(x0, b1, s01);
            s02 = TOps.MultiplyAdd(x0, b2, s02);
            s03 = TOps.MultiplyAdd(x0, b3, s03);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        TOps.Store(s00, ref Unsafe.Add(ref c0, 0 * v));
        TOps.Store(s01, ref Unsafe.Add(ref c0, 1 * v));
        TOps.Store(s02, ref Unsafe.Add(ref c0, 2 * v));
        TOps.Store(s03, ref Unsafe.Add(ref c0, 3 * v));
    }

    private static void Tile1x2<TOps, TVector>(int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, ref float c, nint ldc, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        nint v = TOps.Count;
        ref var c0 = ref Unsafe.Add(ref c, 0 * ldc);
        TVector s00, s01;
        if (accumulate)
        {
            s00 = TOps.Load(ref Unsafe.Add(ref c0, 0 * v));
            s01 = TOps.Load(ref Unsafe.Add(ref c0, 1 * v));
        }
        else
        {
            s00 = s01 = TOps.Zero;
        }

        ref var a0 = ref Unsafe.Add(ref a, 0 * aRow);
        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            var b0 = TOps.Load(ref Unsafe.Add(ref bp, 0 * v));
            var b1 = TOps.Load(ref Unsafe.Add(ref bp, 1 * v));
            var x0 = TOps.Broadcast(Unsafe.Add(ref a0, ap));
            s00 = TOps.MultiplyAdd(x0, b0, s00);
            s01 = TOps.MultiplyAdd(x0, b1, s01);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        TOps.Store(s00, ref Unsafe.Add(ref c0, 0 * v));
        TOps.Store(s01, ref Unsafe.Add(ref c0, 1 * v));
    }

    private static void Tile1x1<TOps, TVector>(int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, ref float c, nint ldc, bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        nint v = TOps.Count;
        ref var c0 = ref Unsafe.Add(ref c, 0 * ldc);
        TVector s00;
        if (accumulate)
        {
            s00 = TOps.Load(ref Unsafe.Add(ref c0, 0 * v));
        }
        else
        {
            s00 = TOps.Zero;
        }

        ref var a0 = ref Unsafe.Add(ref a, 0 * aRow);
        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            var b0 = TOps.Load(ref Unsafe.Add(ref bp, 0 * v));
            var x0 = TOps.Broadcast(Unsafe.Add(ref a0, ap));
            s00 = TOps.MultiplyAdd(x0, b0, s00);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        TOps.Store(s00, ref Unsafe.Add(ref c0, 0 * v));
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
