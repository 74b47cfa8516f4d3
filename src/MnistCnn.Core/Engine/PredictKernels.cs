using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// Prediction's own product for one image through a linear layer: its row times the transposed weight (the
/// convolutions have <see cref="PooledConvolution"/>).
/// </summary>
/// <remarks>
/// Every output element starts from 0 and adds its products for p = 0, 1, ..., k-1, one multiply-add at a time, in
/// that order, as <see cref="Gemm"/> does: so these give the same bits as <see cref="Gemm.Multiply"/> over the same
/// operands, at every vector width, and one image through them the same bits as the image in a batch through
/// <see cref="Gemm"/>. They differ from it only in what they read: more independent sums at once for one row, and
/// the convolution's operand rows gathered from a small table of offsets instead of a written-out matrix.
/// </remarks>
internal static class PredictKernels
{
    /// <summary>Rows a <see cref="DenseRow"/> call lists on the stack; a longer one lists them in a pooled array.</summary>
    private const int StackTerms = 4096;

    /// <summary>
    /// <c>output[j] = Σ_p row[p] · weight[p, j]</c> for j &lt; n (n a multiple of the vector width; weight's rows every
    /// stride floats): eight vectors of outputs at a time, whose eight independent sums keep the multiply-add units busy
    /// where one row's four would wait on each other.
    /// </summary>
    /// <param name="row">The input row (k floats).</param>
    /// <param name="k">Inputs.</param>
    /// <param name="weight">k rows of at least n floats, every <paramref name="stride"/>.</param>
    /// <param name="stride">The weight's row stride.</param>
    /// <param name="n">Outputs.</param>
    /// <param name="output">Receives n floats.</param>
    /// <param name="skipZeros">
    /// Leave out the terms whose input is zero (a ReLU's output is often half zeros), never reading their weight rows:
    /// that gives the same bits, since a sum that starts from +0 is never -0 and adding ±0 to it changes nothing, as long
    /// as the weight is finite (0 · ∞ is NaN). The caller passes true only for a finite weight.
    /// </param>
    /// <exception cref="ArgumentException">n is not a multiple of the vector width in use, or a span is too short.</exception>
    public static void DenseRow(ReadOnlySpan<float> row, int k, ReadOnlySpan<float> weight, int stride, int n, Span<float> output, bool skipZeros)
    {
        var bits = VectorWidth.Bits;
        var lanes = bits == 0 ? 1 : bits / 32;
        if (n % lanes != 0 || k < 1 || row.Length < k || output.Length < n || stride < n || weight.Length < ((k - 1) * (long)stride) + n)
        {
            throw new ArgumentException(
                $"DenseRow needs n ({n}) a multiple of {lanes}, a row of k ({k}) floats, {n} outputs and a weight of {k} rows of {n} floats every {stride}.");
        }

        int[]? rented = null;
        var terms = k <= StackTerms ? stackalloc int[k] : (rented = ArrayPool<int>.Shared.Rent(k));
        var count = 0;
        for (var p = 0; p < k; p++)
        {
            terms[count] = p;
            count += !skipZeros || row[p] != 0f ? 1 : 0;
        }

        switch (bits)
        {
            case >= 512:
                DenseRow<Simd512, Vector512<float>>(row, terms[..count], weight, stride, n, output);
                break;
            case >= 256:
                DenseRow<Simd256, Vector256<float>>(row, terms[..count], weight, stride, n, output);
                break;
            case >= 128:
                DenseRow<Simd128, Vector128<float>>(row, terms[..count], weight, stride, n, output);
                break;
            default:
                DenseRow<SimdScalar, float>(row, terms[..count], weight, stride, n, output);
                break;
        }

        if (rented is not null)
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    // The sums over the listed terms p, in their (ascending) order.
    private static void DenseRow<TOps, TVector>(
        ReadOnlySpan<float> row, ReadOnlySpan<int> terms, ReadOnlySpan<float> weight, int stride, int n, Span<float> output)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        nint v = TOps.Count;
        ref var x = ref MemoryMarshal.GetReference(row);
        ref var c = ref MemoryMarshal.GetReference(output);
        ref var t = ref MemoryMarshal.GetReference(terms);
        var count = terms.Length;
        var j = 0;
        for (; j + (8 * v) <= n; j += (int)(8 * v))
        {
            ref var w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), j);
            TVector s0, s1, s2, s3, s4, s5, s6, s7;
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = TOps.Zero;
            for (var i = 0; i < count; i++)
            {
                var p = Unsafe.Add(ref t, i);
                var a = TOps.Broadcast(Unsafe.Add(ref x, p));
                ref var wp = ref Unsafe.Add(ref w, (nint)p * stride);
                s0 = TOps.MultiplyAdd(a, TOps.Load(ref Unsafe.Add(ref wp, 0 * v)), s0);
                s1 = TOps.MultiplyAdd(a, TOps.Load(ref Unsafe.Add(ref wp, 1 * v)), s1);
                s2 = TOps.MultiplyAdd(a, TOps.Load(ref Unsafe.Add(ref wp, 2 * v)), s2);
                s3 = TOps.MultiplyAdd(a, TOps.Load(ref Unsafe.Add(ref wp, 3 * v)), s3);
                s4 = TOps.MultiplyAdd(a, TOps.Load(ref Unsafe.Add(ref wp, 4 * v)), s4);
                s5 = TOps.MultiplyAdd(a, TOps.Load(ref Unsafe.Add(ref wp, 5 * v)), s5);
                s6 = TOps.MultiplyAdd(a, TOps.Load(ref Unsafe.Add(ref wp, 6 * v)), s6);
                s7 = TOps.MultiplyAdd(a, TOps.Load(ref Unsafe.Add(ref wp, 7 * v)), s7);
            }

            ref var o = ref Unsafe.Add(ref c, j);
            TOps.Store(s0, ref Unsafe.Add(ref o, 0 * v));
            TOps.Store(s1, ref Unsafe.Add(ref o, 1 * v));
            TOps.Store(s2, ref Unsafe.Add(ref o, 2 * v));
            TOps.Store(s3, ref Unsafe.Add(ref o, 3 * v));
            TOps.Store(s4, ref Unsafe.Add(ref o, 4 * v));
            TOps.Store(s5, ref Unsafe.Add(ref o, 5 * v));
            TOps.Store(s6, ref Unsafe.Add(ref o, 6 * v));
            TOps.Store(s7, ref Unsafe.Add(ref o, 7 * v));
        }

        for (; j + (2 * v) <= n; j += (int)(2 * v))
        {
            ref var w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), j);
            TVector s0 = TOps.Zero, s1 = TOps.Zero;
            for (var i = 0; i < count; i++)
            {
                var p = Unsafe.Add(ref t, i);
                var a = TOps.Broadcast(Unsafe.Add(ref x, p));
                ref var wp = ref Unsafe.Add(ref w, (nint)p * stride);
                s0 = TOps.MultiplyAdd(a, TOps.Load(ref wp), s0);
                s1 = TOps.MultiplyAdd(a, TOps.Load(ref Unsafe.Add(ref wp, v)), s1);
            }

            TOps.Store(s0, ref Unsafe.Add(ref c, j));
            TOps.Store(s1, ref Unsafe.Add(ref c, j + v));
        }

        for (; j < n; j += (int)v)
        {
            ref var w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), j);
            var s0 = TOps.Zero;
            for (var i = 0; i < count; i++)
            {
                var p = Unsafe.Add(ref t, i);
                s0 = TOps.MultiplyAdd(TOps.Broadcast(Unsafe.Add(ref x, p)), TOps.Load(ref Unsafe.Add(ref w, (nint)p * stride)), s0);
            }

            TOps.Store(s0, ref Unsafe.Add(ref c, j));
        }
    }

    /// <summary>Copies a short run of floats without a call (runs of at least 4: 128-bit moves, the last one overlapping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CopyRun(ref float from, ref float to, int length)
    {
        if (Vector128.IsHardwareAccelerated && length >= 4)
        {
            var i = 0;
            for (; i + 4 <= length; i += 4)
            {
                Vector128.LoadUnsafe(ref from, (nuint)i).StoreUnsafe(ref to, (nuint)i);
            }

            if (i < length)
            {
                Vector128.LoadUnsafe(ref from, (nuint)(length - 4)).StoreUnsafe(ref to, (nuint)(length - 4));
            }

            return;
        }

        for (var i = 0; i < length; i++)
        {
            Unsafe.Add(ref to, i) = Unsafe.Add(ref from, i);
        }
    }

    /// <summary>Copies a row's even columns to <paramref name="even"/> and its odd ones to <paramref name="odd"/>, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SplitColumns(ref float row, int width, ref float even, ref float odd)
    {
        var x = 0;
        for (; x + 1 < width; x += 2)
        {
            Unsafe.Add(ref even, x >> 1) = Unsafe.Add(ref row, x);
            Unsafe.Add(ref odd, x >> 1) = Unsafe.Add(ref row, x + 1);
        }

        if (x < width)
        {
            Unsafe.Add(ref even, x >> 1) = Unsafe.Add(ref row, x);
        }
    }
}
