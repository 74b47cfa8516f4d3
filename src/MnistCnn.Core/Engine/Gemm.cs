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
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate) =>
        CheckAndRun(m, n, k, a, lda, transposedA: false, b, ldb, transposedB: false, c, ldc, accumulate);

    /// <summary>The same with A stored transposed: <paramref name="a"/> is k x m (row stride lda &gt;= m), <c>C (+)= Aᵀ·B</c>.</summary>
    /// <inheritdoc cref="Multiply" path="/exception"/>
    public static void MultiplyTransposedA(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate) =>
        CheckAndRun(m, n, k, a, lda, transposedA: true, b, ldb, transposedB: false, c, ldc, accumulate);

    /// <summary>The same with B stored transposed: <paramref name="b"/> is n x k (row stride ldb &gt;= k), <c>C (+)= A·Bᵀ</c>.</summary>
    /// <inheritdoc cref="Multiply" path="/exception"/>
    public static void MultiplyTransposedB(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate) =>
        CheckAndRun(m, n, k, a, lda, transposedA: false, b, ldb, transposedB: true, c, ldc, accumulate);

    /// <summary>Checks every variant's sizes, strides and spans (A is k x m when transposed, B n x k), then runs it.</summary>
    private static void CheckAndRun(int m, int n, int k, ReadOnlySpan<float> a, int lda, bool transposedA, ReadOnlySpan<float> b, int ldb, bool transposedB,
        Span<float> c, int ldc, bool accumulate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckMatrix(a.Length, transposedA ? k : m, transposedA ? m : k, lda, nameof(a), nameof(lda));
        CheckMatrix(b.Length, transposedB ? n : k, transposedB ? k : n, ldb, nameof(b), nameof(ldb));
        CheckMatrix(c.Length, m, n, ldc, nameof(c), nameof(ldc));
        Run(m, n, k, ref MemoryMarshal.GetReference(a), transposedA ? 1 : lda, transposedA ? lda : 1, ref MemoryMarshal.GetReference(b), ldb, transposedB,
            ref MemoryMarshal.GetReference(c), ldc, accumulate);
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
        if (TOps.Count == Vector512<float>.Count)
        {
            // AVX-512 has 32 registers: 6 x 4 accumulators, 4 of B and a broadcast fit.
            Blocks<TOps, TVector, Six, Four>(in o, ref a, ref b, ref c, ref j);
        }

        // 6 x 2 accumulators, 2 of B and a broadcast fit in the 16 registers of AVX2 or SSE.
        Blocks<TOps, TVector, Six, Two>(in o, ref a, ref b, ref c, ref j);
        Blocks<TOps, TVector, Four, One>(in o, ref a, ref b, ref c, ref j);
    }

    /// <summary>
    /// Computes the column blocks of <typeparamref name="TVectors"/> vectors from <paramref name="j"/> on that fit, in tiles of
    /// <typeparamref name="TRows"/> rows then single rows, and moves j past them.
    /// </summary>
    private static void Blocks<TOps, TVector, TRows, TVectors>(in Operands o, ref float a, ref float b, ref float c, ref int j)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
        where TRows : struct, ITileSize
        where TVectors : struct, ITileSize
    {
        var columns = TVectors.Value * TOps.Count;
        for (; j + columns <= o.N; j += columns)
        {
            ref var panel = ref PanelOfB(in o, ref b, j, columns, out var stride);
            ref var cj = ref Unsafe.Add(ref c, j);
            var i = 0;
            for (; i + TRows.Value <= o.M; i += TRows.Value)
            {
                Tile<TOps, TVector, TRows, TVectors>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.ARow, o.AColumn, ref panel, stride,
                    ref Unsafe.Add(ref cj, i * o.Ldc), o.Ldc, o.Accumulate);
            }

            for (; i < o.M; i++)
            {
                Tile<TOps, TVector, One, TVectors>(o.K, ref Unsafe.Add(ref a, i * o.ARow), o.ARow, o.AColumn, ref panel, stride,
                    ref Unsafe.Add(ref cj, i * o.Ldc), o.Ldc, o.Accumulate);
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

    /// <summary>
    /// C (+)= A·B over one tile of <typeparamref name="TRows"/> rows (at most 6) by <typeparamref name="TVectors"/> vectors of
    /// columns (1, 2 or 4), its accumulators held in registers over the whole of k: for p = 0, 1, ..., k - 1, the p-th
    /// row of B's panel is loaded, then each row of the tile broadcasts A[i, p] and adds its products to its accumulators.
    /// The JIT compiles one copy per shape, with the sizes as constants: rows and vectors beyond the shape are dead code.
    /// </summary>
    private static void Tile<TOps, TVector, TRows, TVectors>(int k, ref float a, nint aRow, nint aColumn, ref float b, nint ldb, ref float c, nint ldc,
        bool accumulate)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
        where TRows : struct, ITileSize
        where TVectors : struct, ITileSize
    {
        nint v = TOps.Count;

        // Rows beyond the tile point at row 0, so no reference leaves the matrices; their code is never compiled.
        ref var c1 = ref TRows.Value > 1 ? ref Unsafe.Add(ref c, 1 * ldc) : ref c;
        ref var c2 = ref TRows.Value > 2 ? ref Unsafe.Add(ref c, 2 * ldc) : ref c;
        ref var c3 = ref TRows.Value > 3 ? ref Unsafe.Add(ref c, 3 * ldc) : ref c;
        ref var c4 = ref TRows.Value > 4 ? ref Unsafe.Add(ref c, 4 * ldc) : ref c;
        ref var c5 = ref TRows.Value > 5 ? ref Unsafe.Add(ref c, 5 * ldc) : ref c;
        TVector s00 = TOps.Zero, s01 = TOps.Zero, s02 = TOps.Zero, s03 = TOps.Zero, s10 = TOps.Zero, s11 = TOps.Zero, s12 = TOps.Zero, s13 = TOps.Zero;
        TVector s20 = TOps.Zero, s21 = TOps.Zero, s22 = TOps.Zero, s23 = TOps.Zero, s30 = TOps.Zero, s31 = TOps.Zero, s32 = TOps.Zero, s33 = TOps.Zero;
        TVector s40 = TOps.Zero, s41 = TOps.Zero, s42 = TOps.Zero, s43 = TOps.Zero, s50 = TOps.Zero, s51 = TOps.Zero, s52 = TOps.Zero, s53 = TOps.Zero;
        if (accumulate)
        {
            LoadRow<TOps, TVector, TRows, TVectors>(0, ref c, v, ref s00, ref s01, ref s02, ref s03);
            LoadRow<TOps, TVector, TRows, TVectors>(1, ref c1, v, ref s10, ref s11, ref s12, ref s13);
            LoadRow<TOps, TVector, TRows, TVectors>(2, ref c2, v, ref s20, ref s21, ref s22, ref s23);
            LoadRow<TOps, TVector, TRows, TVectors>(3, ref c3, v, ref s30, ref s31, ref s32, ref s33);
            LoadRow<TOps, TVector, TRows, TVectors>(4, ref c4, v, ref s40, ref s41, ref s42, ref s43);
            LoadRow<TOps, TVector, TRows, TVectors>(5, ref c5, v, ref s50, ref s51, ref s52, ref s53);
        }

        ref var a1 = ref TRows.Value > 1 ? ref Unsafe.Add(ref a, 1 * aRow) : ref a;
        ref var a2 = ref TRows.Value > 2 ? ref Unsafe.Add(ref a, 2 * aRow) : ref a;
        ref var a3 = ref TRows.Value > 3 ? ref Unsafe.Add(ref a, 3 * aRow) : ref a;
        ref var a4 = ref TRows.Value > 4 ? ref Unsafe.Add(ref a, 4 * aRow) : ref a;
        ref var a5 = ref TRows.Value > 5 ? ref Unsafe.Add(ref a, 5 * aRow) : ref a;
        nint ap = 0;
        ref var bp = ref b;
        for (var p = 0; p < k; p++)
        {
            var b0 = TOps.Load(ref bp);
            var b1 = TVectors.Value > 1 ? TOps.Load(ref Unsafe.Add(ref bp, 1 * v)) : TOps.Zero;
            var b2 = TVectors.Value > 2 ? TOps.Load(ref Unsafe.Add(ref bp, 2 * v)) : TOps.Zero;
            var b3 = TVectors.Value > 3 ? TOps.Load(ref Unsafe.Add(ref bp, 3 * v)) : TOps.Zero;
            MultiplyAddRow<TOps, TVector, TRows, TVectors>(0, ref a, ap, b0, b1, b2, b3, ref s00, ref s01, ref s02, ref s03);
            MultiplyAddRow<TOps, TVector, TRows, TVectors>(1, ref a1, ap, b0, b1, b2, b3, ref s10, ref s11, ref s12, ref s13);
            MultiplyAddRow<TOps, TVector, TRows, TVectors>(2, ref a2, ap, b0, b1, b2, b3, ref s20, ref s21, ref s22, ref s23);
            MultiplyAddRow<TOps, TVector, TRows, TVectors>(3, ref a3, ap, b0, b1, b2, b3, ref s30, ref s31, ref s32, ref s33);
            MultiplyAddRow<TOps, TVector, TRows, TVectors>(4, ref a4, ap, b0, b1, b2, b3, ref s40, ref s41, ref s42, ref s43);
            MultiplyAddRow<TOps, TVector, TRows, TVectors>(5, ref a5, ap, b0, b1, b2, b3, ref s50, ref s51, ref s52, ref s53);
            ap += aColumn;
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        StoreRow<TOps, TVector, TRows, TVectors>(0, ref c, v, s00, s01, s02, s03);
        StoreRow<TOps, TVector, TRows, TVectors>(1, ref c1, v, s10, s11, s12, s13);
        StoreRow<TOps, TVector, TRows, TVectors>(2, ref c2, v, s20, s21, s22, s23);
        StoreRow<TOps, TVector, TRows, TVectors>(3, ref c3, v, s30, s31, s32, s33);
        StoreRow<TOps, TVector, TRows, TVectors>(4, ref c4, v, s40, s41, s42, s43);
        StoreRow<TOps, TVector, TRows, TVectors>(5, ref c5, v, s50, s51, s52, s53);
    }

    /// <summary>Row <paramref name="row"/> of a tile (nothing when the tile has fewer rows): its accumulators from C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadRow<TOps, TVector, TRows, TVectors>(int row, ref float c, nint v, ref TVector s0, ref TVector s1, ref TVector s2,
        ref TVector s3)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
        where TRows : struct, ITileSize
        where TVectors : struct, ITileSize
    {
        if (row >= TRows.Value)
        {
            return;
        }

        s0 = TOps.Load(ref c);
        if (TVectors.Value > 1)
        {
            s1 = TOps.Load(ref Unsafe.Add(ref c, 1 * v));
        }

        if (TVectors.Value > 2)
        {
            s2 = TOps.Load(ref Unsafe.Add(ref c, 2 * v));
        }

        if (TVectors.Value > 3)
        {
            s3 = TOps.Load(ref Unsafe.Add(ref c, 3 * v));
        }
    }

    /// <summary>Row <paramref name="row"/> of a tile (nothing when the tile has fewer rows): adds A[i, p] (<c>ai[ap]</c>) times B's p-th row to it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyAddRow<TOps, TVector, TRows, TVectors>(int row, ref float ai, nint ap, TVector b0, TVector b1, TVector b2, TVector b3,
        ref TVector s0, ref TVector s1, ref TVector s2, ref TVector s3)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
        where TRows : struct, ITileSize
        where TVectors : struct, ITileSize
    {
        if (row >= TRows.Value)
        {
            return;
        }

        var x = TOps.Broadcast(Unsafe.Add(ref ai, ap));
        s0 = TOps.MultiplyAdd(x, b0, s0);
        if (TVectors.Value > 1)
        {
            s1 = TOps.MultiplyAdd(x, b1, s1);
        }

        if (TVectors.Value > 2)
        {
            s2 = TOps.MultiplyAdd(x, b2, s2);
        }

        if (TVectors.Value > 3)
        {
            s3 = TOps.MultiplyAdd(x, b3, s3);
        }
    }

    /// <summary>Row <paramref name="row"/> of a tile (nothing when the tile has fewer rows): its accumulators into C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TOps, TVector, TRows, TVectors>(int row, ref float c, nint v, TVector s0, TVector s1, TVector s2, TVector s3)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
        where TRows : struct, ITileSize
        where TVectors : struct, ITileSize
    {
        if (row >= TRows.Value)
        {
            return;
        }

        TOps.Store(s0, ref c);
        if (TVectors.Value > 1)
        {
            TOps.Store(s1, ref Unsafe.Add(ref c, 1 * v));
        }

        if (TVectors.Value > 2)
        {
            TOps.Store(s2, ref Unsafe.Add(ref c, 2 * v));
        }

        if (TVectors.Value > 3)
        {
            TOps.Store(s3, ref Unsafe.Add(ref c, 3 * v));
        }
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

    /// <summary>A tile's size (rows of C, or vectors of columns) as a type, so the JIT compiles each shape's kernel with it as a constant.</summary>
    private interface ITileSize
    {
        /// <summary>The size.</summary>
        static abstract int Value { get; }
    }

    private readonly struct One : ITileSize
    {
        public static int Value => 1;
    }

    private readonly struct Two : ITileSize
    {
        public static int Value => 2;
    }

    private readonly struct Four : ITileSize
    {
        public static int Value => 4;
    }

    private readonly struct Six : ITileSize
    {
        public static int Value => 6;
    }
}
