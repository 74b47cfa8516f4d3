using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// One image's convolution (stride 1, no padding) ahead of a 2x2 max-pool, for prediction, without an im2col matrix:
/// its product reads the input from small shifted planes through a table of offsets.
/// </summary>
/// <remarks>
/// <para>
/// The output positions are ordered as <see cref="LayerPredictor"/>'s pooled im2col orders them: by corner of the
/// pooling window, then pooled row and column. For input channel c, kernel offset (ky, kx) and corner (dy, dx), the
/// P = pooled height x pooled width values the product reads are <c>input[c, 2 py + dy + ky, 2 px + dx + kx]</c>:
/// with u = dx + kx and y = dy + ky, the rows y, y + 2, ... of the input's columns u, u + 2, ... That is one
/// contiguous block of the shifted plane <c>S[c, u, y mod 2]</c> (rows of one parity, columns u, u + 2, ...), which
/// holds (k + 1) x 2 planes of about a quarter of the channel each: for LeNet's second convolution 23 KB, where its
/// im2col matrix is 125 KB and is written and read again for every image.
/// </para>
/// <para>
/// The product runs over the kernel's elements p = (c, ky, kx) in order, one multiply-add at a time per output, as
/// <see cref="Gemm.Multiply"/> does over the im2col matrix: it gives the same bits as that product, at every width.
/// The weight is kept padded with zero rows to a multiple of <see cref="Rows"/> output channels, so every tile is whole.
/// </para>
/// </remarks>
internal sealed class PooledConvolution
{
    /// <summary>Output channels a tile computes at once.</summary>
    public const int Rows = 5;

    private readonly int _channels;
    private readonly int _height;
    private readonly int _width;
    private readonly int _kernel;
    private readonly int _depth;
    private readonly int _pooledHeight;
    private readonly int _pooledWidth;
    private readonly int _shiftedRows;
    private readonly float[] _weight;
    private readonly int[] _offsets;

    /// <param name="weight">The convolution's weight, output channels x (channels x kernel x kernel).</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="kernel">The kernel's side.</param>
    /// <param name="outChannels">Output channels.</param>
    public PooledConvolution(ReadOnlySpan<float> weight, int channels, int height, int width, int kernel, int outChannels)
    {
        var (outHeight, outWidth) = (height - kernel + 1, width - kernel + 1);
        if (outHeight <= 0 || outWidth <= 0 || outHeight % 2 != 0 || outWidth % 2 != 0)
        {
            throw new ArgumentException($"A {kernel}x{kernel} convolution of a {height}x{width} input has no even output to pool.");
        }

        (_channels, _height, _width, _kernel) = (channels, height, width, kernel);
        _depth = channels * kernel * kernel;
        (_pooledHeight, _pooledWidth) = (outHeight / 2, outWidth / 2);
        _shiftedRows = (height + 1) / 2;
        PaddedChannels = (outChannels + Rows - 1) / Rows * Rows;
        _weight = new float[PaddedChannels * _depth];
        weight[..(outChannels * _depth)].CopyTo(_weight);

        // For each kernel element p = (c, ky, kx) and corner (dy, dx), where its block starts in the shifted planes.
        _offsets = new int[_depth * 4];
        for (var c = 0; c < channels; c++)
        {
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++)
                {
                    var p = (((c * kernel) + ky) * kernel) + kx;
                    for (var corner = 0; corner < 4; corner++)
                    {
                        var (y, u) = ((corner >> 1) + ky, (corner & 1) + kx);
                        _offsets[(p * 4) + corner] = PlaneStart(c, u, y & 1) + ((y >> 1) * _pooledWidth);
                    }
                }
            }
        }
    }

    /// <summary>Output channels the product computes (the real ones, then zero rows up to a multiple of <see cref="Rows"/>).</summary>
    public int PaddedChannels { get; }

    /// <summary>Pooled positions per channel (pooled height x pooled width).</summary>
    public int Pooled => _pooledHeight * _pooledWidth;

    /// <summary>Floats of scratch <see cref="TryConvolve"/> needs for the shifted planes.</summary>
    public int ShiftedFloats => _channels * (_kernel + 1) * 2 * _shiftedRows * _pooledWidth;

    /// <summary>Floats <see cref="TryConvolve"/> writes: <see cref="PaddedChannels"/> x 4 corners x <see cref="Pooled"/>.</summary>
    public int ProductFloats => PaddedChannels * 4 * Pooled;

    /// <summary>Whether <see cref="Multiply"/> runs at the vector width in use: the pooled plane must fill whole vectors.</summary>
    public bool Fits
    {
        get
        {
            var bits = VectorWidth.Bits;
            return Pooled % (bits == 0 ? 1 : bits / 32) == 0;
        }
    }

    /// <summary>
    /// Writes the convolution (no bias) of <paramref name="input"/> into <paramref name="product"/>, channel by
    /// channel, each as 4 blocks of <see cref="Pooled"/> values, one per corner of the pooling window; false (and
    /// nothing written) when it does not <see cref="Fits">fit</see> the vector width in use.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the input, <see cref="ShiftedFloats"/> or <see cref="ProductFloats"/>.</exception>
    public bool TryConvolve(ReadOnlySpan<float> input, Span<float> shifted, Span<float> product)
    {
        if (!Fits)
        {
            return false;
        }

        Shift(input, shifted);
        Multiply(shifted, product);
        return true;
    }

    /// <summary>Writes the shifted planes of <paramref name="input"/> (<see cref="ShiftedFloats"/> floats).</summary>
    /// <exception cref="ArgumentException">A span is shorter than the input or <see cref="ShiftedFloats"/>.</exception>
    public void Shift(ReadOnlySpan<float> input, Span<float> shifted)
    {
        if (input.Length < _channels * _height * _width || shifted.Length < ShiftedFloats)
        {
            throw new ArgumentException("The input or the shifted planes' scratch is shorter than the convolution needs.");
        }

        ShiftPlanes(input, shifted);
    }

    /// <summary>The product of the weight and the shifted planes (<see cref="Shift"/>'s), at a width it <see cref="Fits"/>.</summary>
    /// <exception cref="ArgumentException">A span is shorter than <see cref="ShiftedFloats"/> or <see cref="ProductFloats"/>.</exception>
    /// <exception cref="InvalidOperationException">The pooled plane does not fill whole vectors of the width in use.</exception>
    public void Multiply(ReadOnlySpan<float> shifted, Span<float> product)
    {
        if (shifted.Length < ShiftedFloats || product.Length < ProductFloats)
        {
            throw new ArgumentException("The shifted planes or the product is shorter than the convolution needs.");
        }

        if (!Fits)
        {
            throw new InvalidOperationException($"{Pooled} pooled positions fill no whole vectors of {VectorWidth.Bits} bits.");
        }

        switch (VectorWidth.Bits)
        {
            case >= 512:
                Product<Simd512, Vector512<float>>(shifted, product);
                break;
            case >= 256:
                Product<Simd256, Vector256<float>>(shifted, product);
                break;
            case >= 128:
                Product<Simd128, Vector128<float>>(shifted, product);
                break;
            default:
                Product<SimdScalar, float>(shifted, product);
                break;
        }
    }

    private int PlaneStart(int c, int u, int parity) => ((((c * (_kernel + 1)) + u) * 2) + parity) * _shiftedRows * _pooledWidth;

    // S[c, u, y mod 2][y / 2, px] = input[c, y, 2 px + u]: each input row split into its even and odd columns once,
    // then copied as runs of pooled-width floats, one per shift u.
    private void ShiftPlanes(ReadOnlySpan<float> input, Span<float> shifted)
    {
        var half = (_width + 1) / 2;
        Span<float> split = stackalloc float[2 * half];
        ref var source = ref MemoryMarshal.GetReference(input);
        ref var target = ref MemoryMarshal.GetReference(shifted);
        ref var even = ref MemoryMarshal.GetReference(split);
        ref var odd = ref Unsafe.Add(ref even, half);
        for (var c = 0; c < _channels; c++)
        {
            for (var y = 0; y < _height; y++)
            {
                ref var row = ref Unsafe.Add(ref source, ((c * _height) + y) * _width);
                PredictKernels.SplitColumns(ref row, _width, ref even, ref odd);

                var at = (y >> 1) * _pooledWidth;
                for (var u = 0; u <= _kernel; u++)
                {
                    ref var from = ref Unsafe.Add(ref (u & 1) == 0 ? ref even : ref odd, u >> 1);
                    PredictKernels.CopyRun(ref from, ref Unsafe.Add(ref target, PlaneStart(c, u, y & 1) + at), _pooledWidth);
                }
            }
        }
    }

    // Tiles of 5 channels x 4 vectors of positions with AVX-512 (20 accumulators of 32 registers; LeNet's 20 and 50 channels
    // fill whole tiles), of 5 channels x 2 vectors otherwise (10 accumulators of AVX2's or SSE's 16 registers).
    private void Product<TOps, TVector>(ReadOnlySpan<float> shifted, Span<float> product)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        var wide = typeof(TVector) == typeof(Vector512<float>);
        var v = TOps.Count;
        var (pooled, columns) = (Pooled, 4 * Pooled);
        ref var s = ref MemoryMarshal.GetReference(shifted);
        ref var offsets = ref MemoryMarshal.GetArrayDataReference(_offsets);
        for (var j = 0; j < columns; j += (wide ? 4 : 2) * v)
        {
            var (c0, i0) = Math.DivRem(j, pooled);
            var (c1, i1) = Math.DivRem(j + v, pooled);
            if (wide)
            {
                var (c2, i2) = Math.DivRem(j + (2 * v), pooled);
                var (c3, i3) = Math.DivRem(j + (3 * v), pooled);
                for (var r = 0; r < PaddedChannels; r += Rows)
                {
                    Tile5x4<TOps, TVector>(
                        _depth, ref _weight[r * _depth], ref s, ref offsets, new(c0, c1, c2, c3), new(i0, i1, i2, i3), ref product[(r * columns) + j], columns);
                }
            }
            else
            {
                for (var r = 0; r < PaddedChannels; r += Rows)
                {
                    Tile5x2<TOps, TVector>(_depth, ref _weight[r * _depth], ref s, ref offsets, c0, i0, c1, i1, ref product[(r * columns) + j], columns);
                }
            }
        }
    }

    private static void Tile5x4<TOps, TVector>(int depth, ref float w, ref float s, ref int offsets, Quad corners, Quad within, ref float c, nint ldc)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        TVector s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33, s40, s41, s42, s43;
        s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = s20 = s21 = s22 = s23 = TOps.Zero;
        s30 = s31 = s32 = s33 = s40 = s41 = s42 = s43 = TOps.Zero;
        ref var a0 = ref w;
        ref var a1 = ref Unsafe.Add(ref w, depth);
        ref var a2 = ref Unsafe.Add(ref w, 2 * depth);
        ref var a3 = ref Unsafe.Add(ref w, 3 * depth);
        ref var a4 = ref Unsafe.Add(ref w, 4 * depth);
        ref var b0 = ref Unsafe.Add(ref s, within.A);
        ref var b1 = ref Unsafe.Add(ref s, within.B);
        ref var b2 = ref Unsafe.Add(ref s, within.C);
        ref var b3 = ref Unsafe.Add(ref s, within.D);
        ref var o = ref offsets;
        for (nint p = 0; p < depth; p++)
        {
            var v0 = TOps.Load(ref Unsafe.Add(ref b0, Unsafe.Add(ref o, corners.A)));
            var v1 = TOps.Load(ref Unsafe.Add(ref b1, Unsafe.Add(ref o, corners.B)));
            var v2 = TOps.Load(ref Unsafe.Add(ref b2, Unsafe.Add(ref o, corners.C)));
            var v3 = TOps.Load(ref Unsafe.Add(ref b3, Unsafe.Add(ref o, corners.D)));
            Row4<TOps, TVector>(TOps.Broadcast(Unsafe.Add(ref a0, p)), v0, v1, v2, v3, ref s00, ref s01, ref s02, ref s03);
            Row4<TOps, TVector>(TOps.Broadcast(Unsafe.Add(ref a1, p)), v0, v1, v2, v3, ref s10, ref s11, ref s12, ref s13);
            Row4<TOps, TVector>(TOps.Broadcast(Unsafe.Add(ref a2, p)), v0, v1, v2, v3, ref s20, ref s21, ref s22, ref s23);
            Row4<TOps, TVector>(TOps.Broadcast(Unsafe.Add(ref a3, p)), v0, v1, v2, v3, ref s30, ref s31, ref s32, ref s33);
            Row4<TOps, TVector>(TOps.Broadcast(Unsafe.Add(ref a4, p)), v0, v1, v2, v3, ref s40, ref s41, ref s42, ref s43);
            o = ref Unsafe.Add(ref o, 4);
        }

        nint n = TOps.Count;
        Store4<TOps, TVector>(ref c, n, s00, s01, s02, s03);
        Store4<TOps, TVector>(ref Unsafe.Add(ref c, ldc), n, s10, s11, s12, s13);
        Store4<TOps, TVector>(ref Unsafe.Add(ref c, 2 * ldc), n, s20, s21, s22, s23);
        Store4<TOps, TVector>(ref Unsafe.Add(ref c, 3 * ldc), n, s30, s31, s32, s33);
        Store4<TOps, TVector>(ref Unsafe.Add(ref c, 4 * ldc), n, s40, s41, s42, s43);
    }

    private static void Tile5x2<TOps, TVector>(int depth, ref float w, ref float s, ref int offsets, int corner0, int within0, int corner1, int within1,
        ref float c, nint ldc)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        TVector s00, s01, s10, s11, s20, s21, s30, s31, s40, s41;
        s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = s40 = s41 = TOps.Zero;
        ref var a0 = ref w;
        ref var a1 = ref Unsafe.Add(ref w, depth);
        ref var a2 = ref Unsafe.Add(ref w, 2 * depth);
        ref var a3 = ref Unsafe.Add(ref w, 3 * depth);
        ref var a4 = ref Unsafe.Add(ref w, 4 * depth);
        ref var b0 = ref Unsafe.Add(ref s, within0);
        ref var b1 = ref Unsafe.Add(ref s, within1);
        ref var o = ref offsets;
        for (nint p = 0; p < depth; p++)
        {
            var v0 = TOps.Load(ref Unsafe.Add(ref b0, Unsafe.Add(ref o, corner0)));
            var v1 = TOps.Load(ref Unsafe.Add(ref b1, Unsafe.Add(ref o, corner1)));
            Row2<TOps, TVector>(TOps.Broadcast(Unsafe.Add(ref a0, p)), v0, v1, ref s00, ref s01);
            Row2<TOps, TVector>(TOps.Broadcast(Unsafe.Add(ref a1, p)), v0, v1, ref s10, ref s11);
            Row2<TOps, TVector>(TOps.Broadcast(Unsafe.Add(ref a2, p)), v0, v1, ref s20, ref s21);
            Row2<TOps, TVector>(TOps.Broadcast(Unsafe.Add(ref a3, p)), v0, v1, ref s30, ref s31);
            Row2<TOps, TVector>(TOps.Broadcast(Unsafe.Add(ref a4, p)), v0, v1, ref s40, ref s41);
            o = ref Unsafe.Add(ref o, 4);
        }

        nint n = TOps.Count;
        Store2<TOps, TVector>(ref c, n, s00, s01);
        Store2<TOps, TVector>(ref Unsafe.Add(ref c, ldc), n, s10, s11);
        Store2<TOps, TVector>(ref Unsafe.Add(ref c, 2 * ldc), n, s20, s21);
        Store2<TOps, TVector>(ref Unsafe.Add(ref c, 3 * ldc), n, s30, s31);
        Store2<TOps, TVector>(ref Unsafe.Add(ref c, 4 * ldc), n, s40, s41);
    }

    /// <summary>One weight row of a tile: <c>s_j = x · v_j + s_j</c> for its four vectors of positions, in that order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4<TOps, TVector>(
        TVector x, TVector v0, TVector v1, TVector v2, TVector v3, ref TVector s0, ref TVector s1, ref TVector s2, ref TVector s3)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        s0 = TOps.MultiplyAdd(x, v0, s0);
        s1 = TOps.MultiplyAdd(x, v1, s1);
        s2 = TOps.MultiplyAdd(x, v2, s2);
        s3 = TOps.MultiplyAdd(x, v3, s3);
    }

    /// <summary>One weight row of a narrow tile: <c>s_j = x · v_j + s_j</c> for its two vectors of positions, in that order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row2<TOps, TVector>(TVector x, TVector v0, TVector v1, ref TVector s0, ref TVector s1)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        s0 = TOps.MultiplyAdd(x, v0, s0);
        s1 = TOps.MultiplyAdd(x, v1, s1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4<TOps, TVector>(ref float c, nint n, TVector s0, TVector s1, TVector s2, TVector s3)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        TOps.Store(s0, ref c);
        TOps.Store(s1, ref Unsafe.Add(ref c, n));
        TOps.Store(s2, ref Unsafe.Add(ref c, 2 * n));
        TOps.Store(s3, ref Unsafe.Add(ref c, 3 * n));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2<TOps, TVector>(ref float c, nint n, TVector s0, TVector s1)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        TOps.Store(s0, ref c);
        TOps.Store(s1, ref Unsafe.Add(ref c, n));
    }

    /// <summary>Four small integers of a tile (its vectors' corners, or their places within a corner's block).</summary>
    private readonly record struct Quad(int A, int B, int C, int D);
}
