using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// The case-study network's forward pass in managed code (no torch): conv 1→3 (3x3) + sigmoid, conv 3→6
/// (3x3) + sigmoid, linear 3456→10, in float32 with 256-bit vectors and fused multiply-adds where the CPU has them.
/// </summary>
/// <remarks>
/// <para>
/// Layout: the image is kept in rows of <see cref="InputStride"/> floats, so every conv1 output row of 26
/// values is four whole 8-float vectors (the last six lanes read the zero padding and are never used).
/// conv1's output rows have the same stride; conv2's output rows are 24 floats, three whole vectors, and
/// are stored contiguously, channel-major, which is exactly PyTorch's flatten order for the linear layer.
/// Every weight is broadcast from memory as a scalar; each output vector accumulates its 9 (conv1) or 27
/// (conv2) taps in a register, then goes through the sigmoid once. conv2 computes three output channels
/// at a time, so each input vector loaded serves three accumulators. The sigmoid's exponential is a
/// float32 polynomial (<see cref="CaseStudyLanes.Exp{TOps, TVector}"/>): <c>Vector256.Exp</c> computes in float64 (measured, one image on
/// one thread of a busy machine: 10.7 us per prediction with it, 7.9 us with this one).
/// </para>
/// <para>
/// Scratch space lives on the caller's stack (about 27 KB), so a forward pass allocates nothing and
/// threads never share state.
/// </para>
/// </remarks>
internal static class CaseStudyForward
{
    /// <summary>conv1's output channels.</summary>
    public const int Conv1Channels = 3;

    /// <summary>conv2's output channels.</summary>
    public const int Conv2Channels = 6;

    /// <summary>Floats of conv1.weight (3 x 1 x 3 x 3).</summary>
    public const int Conv1WeightLength = Conv1Channels * 9;

    /// <summary>Floats of one conv2 output channel's kernel (3 x 3 x 3).</summary>
    public const int Conv2KernelLength = Conv1Channels * 9;

    /// <summary>Floats of conv2.weight (6 x 3 x 3 x 3).</summary>
    public const int Conv2WeightLength = Conv2Channels * Conv2KernelLength;

    /// <summary>The flattened features: six 24 x 24 planes.</summary>
    public const int Features = Conv2Channels * 24 * 24;

    /// <summary>The logits.</summary>
    public const int Classes = 10;

    /// <summary>Floats per input row (28 used).</summary>
    public const int InputStride = 32;

    /// <summary>
    /// Floats of the padded input: 28 rows plus 8 floats, because the last conv1 row reads two columns
    /// past the 32nd of row 27.
    /// </summary>
    public const int InputLength = (NetworkDescription.ImageSize * InputStride) + 8;

    /// <summary>conv1's output side length.</summary>
    internal const int Conv1Size = 26;

    /// <summary>Floats per conv1 output row (26 used).</summary>
    internal const int Conv1Stride = 32;

    /// <summary>Floats per conv1 output channel.</summary>
    internal const int Conv1Plane = Conv1Size * Conv1Stride;

    private const int Conv2Size = 24;
    private const int Conv2Plane = Conv2Size * Conv2Size;
    private const int Lanes = 8;

    /// <summary>Feature columns per block of <see cref="Linear4"/> (3,456 = 9 x 384).</summary>
    private const int LinearBlock = 384;

    /// <summary>Fills a padded input buffer (zeroed by the caller) from 784 prepared floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LoadImage(ReadOnlySpan<float> image, Span<float> input)
    {
        Debug.Assert(image.Length == NetworkDescription.ImageSize * NetworkDescription.ImageSize && input.Length >= InputLength);
        for (var row = 0; row < NetworkDescription.ImageSize; row++)
        {
            image.Slice(row * NetworkDescription.ImageSize, NetworkDescription.ImageSize).CopyTo(input.Slice(row * InputStride));
        }
    }

    /// <summary>Computes the ten logits of one padded input image (parameters in the case study's order).</summary>
    [SkipLocalsInit]
    public static void Logits(ParameterView weights, ReadOnlySpan<float> input, Span<float> logits)
    {
        Debug.Assert(input.Length >= InputLength && logits.Length >= Classes);

        // conv1's padding lanes are written (with garbage from the padding) but never read, and every
        // feature is written before it is read, so neither buffer needs zeroing.
        Span<float> conv1 = stackalloc float[Conv1Channels * Conv1Plane];
        Span<float> features = stackalloc float[Features];
        Conv1(weights[0], weights[1], input, conv1);
        Conv2(weights[2], weights[3], conv1, features);
        Linear(weights[4], weights[5], features, logits);
    }

    /// <summary>
    /// conv1 + sigmoid of one padded input (<see cref="InputLength"/> floats) into three planes of
    /// <see cref="Conv1Plane"/> floats (26 rows of <see cref="Conv1Stride"/>; the last six columns of each row
    /// hold values computed from the padding, finite but meaningless).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Conv1(ReadOnlySpan<float> weight, ReadOnlySpan<float> biases, ReadOnlySpan<float> input, Span<float> output)
    {
        if (CaseStudyLanes.Narrow is { } narrow)
        {
            narrow.Conv1(weight, biases, input, output);
            return;
        }

        Debug.Assert(weight.Length >= Conv1WeightLength && biases.Length >= 3 && input.Length >= InputLength && output.Length >= 3 * Conv1Plane);
        ref var source = ref MemoryMarshal.GetReference(input);
        ref var destination = ref MemoryMarshal.GetReference(output);
        ref var w = ref MemoryMarshal.GetReference(weight);
        for (var channel = 0; channel < CaseStudyForward.Conv1Channels; channel++)
        {
            ref var k = ref Unsafe.Add(ref w, channel * 9);
            var bias = Vector256.Create(biases[channel]);

            // Two rows of four vectors at a time: eight independent sums, then eight independent sigmoids, where one
            // vector at a time waited on its own chain of nine multiply-adds and then the sigmoid's (measured: conv1's
            // forward took as long as conv2's, which does six times its multiply-adds).
            for (var y = 0; y < Conv1Size; y += 2)
            {
                Vector256<float> a0 = bias, b0 = bias, c0 = bias, d0 = bias, a1 = bias, b1 = bias, c1 = bias, d1 = bias;
                for (var tap = 0; tap < 9; tap++)
                {
                    var at = (nuint)(((y + (tap / 3)) * InputStride) + (tap % 3));
                    var t = Vector256.Create(Unsafe.Add(ref k, tap));
                    a0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at), t, a0);
                    b0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at + Lanes), t, b0);
                    c0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at + (2 * Lanes)), t, c0);
                    d0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at + (3 * Lanes)), t, d0);
                    at += InputStride;
                    a1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at), t, a1);
                    b1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at + Lanes), t, b1);
                    c1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at + (2 * Lanes)), t, c1);
                    d1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at + (3 * Lanes)), t, d1);
                }

                var to = (nuint)((channel * Conv1Plane) + (y * Conv1Stride));
                a0.StoreUnsafe(ref destination, to);
                b0.StoreUnsafe(ref destination, to + Lanes);
                c0.StoreUnsafe(ref destination, to + (2 * Lanes));
                d0.StoreUnsafe(ref destination, to + (3 * Lanes));
                to += Conv1Stride;
                a1.StoreUnsafe(ref destination, to);
                b1.StoreUnsafe(ref destination, to + Lanes);
                c1.StoreUnsafe(ref destination, to + (2 * Lanes));
                d1.StoreUnsafe(ref destination, to + (3 * Lanes));
            }
        }

        SigmoidInPlace(output[..(CaseStudyForward.Conv1Channels * Conv1Plane)]);
    }

    /// <summary>
    /// conv2 + sigmoid of conv1's planes into the 3,456 features, channel-major, rows of 24 (PyTorch's flatten order).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Conv2(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> input, Span<float> output)
    {
        if (CaseStudyLanes.Narrow is { } narrow)
        {
            narrow.Conv2(weight, bias, input, output);
            return;
        }

        Debug.Assert(weight.Length >= Conv2WeightLength && bias.Length >= 6 && input.Length >= 3 * Conv1Plane && output.Length >= Features);
        ref var source = ref MemoryMarshal.GetReference(input);
        ref var destination = ref MemoryMarshal.GetReference(output);
        ref var w = ref MemoryMarshal.GetReference(weight);
        ref var biases = ref MemoryMarshal.GetReference(bias);

        // Three output channels at a time share every input load: 9 accumulators, 3 loads and 3 broadcasts
        // per tap fit the 16 vector registers of AVX2.
        for (var first = 0; first < CaseStudyForward.Conv2Channels; first += 3)
        {
            ref var k0 = ref Unsafe.Add(ref w, first * Conv2KernelLength);
            ref var k1 = ref Unsafe.Add(ref w, (first + 1) * Conv2KernelLength);
            ref var k2 = ref Unsafe.Add(ref w, (first + 2) * Conv2KernelLength);
            var bias0 = Vector256.Create(Unsafe.Add(ref biases, first));
            var bias1 = Vector256.Create(Unsafe.Add(ref biases, first + 1));
            var bias2 = Vector256.Create(Unsafe.Add(ref biases, first + 2));
            for (var y = 0; y < Conv2Size; y++)
            {
                Vector256<float> a0 = bias0, b0 = bias0, c0 = bias0;
                Vector256<float> a1 = bias1, b1 = bias1, c1 = bias1;
                Vector256<float> a2 = bias2, b2 = bias2, c2 = bias2;
                for (var row = 0; row < 9; row++)
                {
                    // row = input channel * 3 + ky; its three taps are row * 3 + kx.
                    var at = (nuint)(((row / 3) * Conv1Plane) + ((y + (row % 3)) * Conv1Stride));
                    for (var kx = 0; kx < 3; kx++, at++)
                    {
                        var tap = (row * 3) + kx;
                        var xa = Vector256.LoadUnsafe(ref source, at);
                        var xb = Vector256.LoadUnsafe(ref source, at + Lanes);
                        var xc = Vector256.LoadUnsafe(ref source, at + (2 * Lanes));
                        var t0 = Vector256.Create(Unsafe.Add(ref k0, tap));
                        a0 = Vector256.MultiplyAddEstimate(xa, t0, a0);
                        b0 = Vector256.MultiplyAddEstimate(xb, t0, b0);
                        c0 = Vector256.MultiplyAddEstimate(xc, t0, c0);
                        var t1 = Vector256.Create(Unsafe.Add(ref k1, tap));
                        a1 = Vector256.MultiplyAddEstimate(xa, t1, a1);
                        b1 = Vector256.MultiplyAddEstimate(xb, t1, b1);
                        c1 = Vector256.MultiplyAddEstimate(xc, t1, c1);
                        var t2 = Vector256.Create(Unsafe.Add(ref k2, tap));
                        a2 = Vector256.MultiplyAddEstimate(xa, t2, a2);
                        b2 = Vector256.MultiplyAddEstimate(xb, t2, b2);
                        c2 = Vector256.MultiplyAddEstimate(xc, t2, c2);
                    }
                }

                var to = (nuint)((first * Conv2Plane) + (y * Conv2Size));
                a0.StoreUnsafe(ref destination, to);
                b0.StoreUnsafe(ref destination, to + Lanes);
                c0.StoreUnsafe(ref destination, to + (2 * Lanes));
                a1.StoreUnsafe(ref destination, to + Conv2Plane);
                b1.StoreUnsafe(ref destination, to + Conv2Plane + Lanes);
                c1.StoreUnsafe(ref destination, to + Conv2Plane + (2 * Lanes));
                a2.StoreUnsafe(ref destination, to + (2 * Conv2Plane));
                b2.StoreUnsafe(ref destination, to + (2 * Conv2Plane) + Lanes);
                c2.StoreUnsafe(ref destination, to + (2 * Conv2Plane) + (2 * Lanes));
            }
        }

        SigmoidInPlace(output[..Features]);
    }

    /// <summary>
    /// The sigmoid of every value, in place (a length that is a multiple of 8). A pass of its own after the sums: the
    /// sigmoid is a chain of about 20 dependent operations, and taken right after each row's sums it waited on them and
    /// held up the next row's (measured: conv2's forward pass took 1.3x the time of its multiply-adds and sigmoids
    /// apart). Where AVX-512 is accelerated, 16 lanes a vector: the same operations per lane, so the same bits, with
    /// half the instructions in the processor's window (AMD Zen 4, which splits each 512-bit operation in two: 8 cycles
    /// per 8 lanes against 12.3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SigmoidInPlace(Span<float> values)
    {
        Debug.Assert(values.Length % Vector256<float>.Count == 0);
        ref var v = ref MemoryMarshal.GetReference(values);
        var length = (nuint)values.Length;
        nuint i = 0;
        if (VectorWidth.Bits >= 512)
        {
            for (; i + (nuint)Vector512<float>.Count <= length; i += (nuint)Vector512<float>.Count)
            {
                CaseStudy512.Sigmoid(Vector512.LoadUnsafe(ref v, i)).StoreUnsafe(ref v, i);
            }
        }

        for (; i < length; i += Lanes)
        {
            CaseStudy256.Sigmoid(Vector256.LoadUnsafe(ref v, i)).StoreUnsafe(ref v, i);
        }
    }

    /// <summary>
    /// The ten logits of each of four images, whose features lie <see cref="Features"/> floats apart, into
    /// <c>logits[10 n + j]</c>. Each image's sums are <see cref="Linear"/>'s, in its order, so the logits are the same bits;
    /// every vector of linear1.weight loaded serves the four images, where one image at a time read all 138 KB of the
    /// weight per image.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Linear4(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> features, Span<float> logits)
    {
        if (CaseStudyLanes.Narrow is { } narrow)
        {
            for (var n = 0; n < 4; n++)
            {
                narrow.Linear(weight, bias, features.Slice(n * Features, Features), logits.Slice(n * Classes, Classes));
            }

            return;
        }

        Debug.Assert(weight.Length >= CaseStudyForward.Classes * Features && bias.Length >= CaseStudyForward.Classes && features.Length >= 4 * Features
            && logits.Length >= 4 * Classes);
        ref var x = ref MemoryMarshal.GetReference(features);
        ref var w = ref MemoryMarshal.GetReference(weight);

        // The features are taken in blocks of LinearBlock columns: a block's ten weight rows and four images' features
        // (21.5 KB) stay in L1 while every class runs over it; a class's 16 sums wait in memory between blocks.
        Span<Vector256<float>> sums = stackalloc Vector256<float>[CaseStudyForward.Classes * 16];
        sums.Clear();
        ref var s = ref MemoryMarshal.GetReference(sums);
        for (nuint from = 0; from < Features; from += LinearBlock)
        {
            for (var j = 0; j < CaseStudyForward.Classes; j++)
            {
                ref var row = ref Unsafe.Add(ref w, j * Features);
                ref var t = ref Unsafe.Add(ref s, j * 16);
                Vector256<float> a0 = t, a1 = Unsafe.Add(ref t, 1), a2 = Unsafe.Add(ref t, 2), a3 = Unsafe.Add(ref t, 3);
                Vector256<float> b0 = Unsafe.Add(ref t, 4), b1 = Unsafe.Add(ref t, 5), b2 = Unsafe.Add(ref t, 6), b3 = Unsafe.Add(ref t, 7);
                Vector256<float> c0 = Unsafe.Add(ref t, 8), c1 = Unsafe.Add(ref t, 9), c2 = Unsafe.Add(ref t, 10), c3 = Unsafe.Add(ref t, 11);
                Vector256<float> d0 = Unsafe.Add(ref t, 12), d1 = Unsafe.Add(ref t, 13), d2 = Unsafe.Add(ref t, 14), d3 = Unsafe.Add(ref t, 15);
                for (var i = from; i < from + LinearBlock; i += 4 * Lanes)
                {
                    var w0 = Vector256.LoadUnsafe(ref row, i);
                    var w1 = Vector256.LoadUnsafe(ref row, i + Lanes);
                    var w2 = Vector256.LoadUnsafe(ref row, i + (2 * Lanes));
                    var w3 = Vector256.LoadUnsafe(ref row, i + (3 * Lanes));
                    a0 = Vector256.MultiplyAddEstimate(w0, Vector256.LoadUnsafe(ref x, i), a0);
                    a1 = Vector256.MultiplyAddEstimate(w1, Vector256.LoadUnsafe(ref x, i + Lanes), a1);
                    a2 = Vector256.MultiplyAddEstimate(w2, Vector256.LoadUnsafe(ref x, i + (2 * Lanes)), a2);
                    a3 = Vector256.MultiplyAddEstimate(w3, Vector256.LoadUnsafe(ref x, i + (3 * Lanes)), a3);
                    var at = i + Features;
                    b0 = Vector256.MultiplyAddEstimate(w0, Vector256.LoadUnsafe(ref x, at), b0);
                    b1 = Vector256.MultiplyAddEstimate(w1, Vector256.LoadUnsafe(ref x, at + Lanes), b1);
                    b2 = Vector256.MultiplyAddEstimate(w2, Vector256.LoadUnsafe(ref x, at + (2 * Lanes)), b2);
                    b3 = Vector256.MultiplyAddEstimate(w3, Vector256.LoadUnsafe(ref x, at + (3 * Lanes)), b3);
                    at += Features;
                    c0 = Vector256.MultiplyAddEstimate(w0, Vector256.LoadUnsafe(ref x, at), c0);
                    c1 = Vector256.MultiplyAddEstimate(w1, Vector256.LoadUnsafe(ref x, at + Lanes), c1);
                    c2 = Vector256.MultiplyAddEstimate(w2, Vector256.LoadUnsafe(ref x, at + (2 * Lanes)), c2);
                    c3 = Vector256.MultiplyAddEstimate(w3, Vector256.LoadUnsafe(ref x, at + (3 * Lanes)), c3);
                    at += Features;
                    d0 = Vector256.MultiplyAddEstimate(w0, Vector256.LoadUnsafe(ref x, at), d0);
                    d1 = Vector256.MultiplyAddEstimate(w1, Vector256.LoadUnsafe(ref x, at + Lanes), d1);
                    d2 = Vector256.MultiplyAddEstimate(w2, Vector256.LoadUnsafe(ref x, at + (2 * Lanes)), d2);
                    d3 = Vector256.MultiplyAddEstimate(w3, Vector256.LoadUnsafe(ref x, at + (3 * Lanes)), d3);
                }

                t = a0;
                Unsafe.Add(ref t, 1) = a1;
                Unsafe.Add(ref t, 2) = a2;
                Unsafe.Add(ref t, 3) = a3;
                Unsafe.Add(ref t, 4) = b0;
                Unsafe.Add(ref t, 5) = b1;
                Unsafe.Add(ref t, 6) = b2;
                Unsafe.Add(ref t, 7) = b3;
                Unsafe.Add(ref t, 8) = c0;
                Unsafe.Add(ref t, 9) = c1;
                Unsafe.Add(ref t, 10) = c2;
                Unsafe.Add(ref t, 11) = c3;
                Unsafe.Add(ref t, 12) = d0;
                Unsafe.Add(ref t, 13) = d1;
                Unsafe.Add(ref t, 14) = d2;
                Unsafe.Add(ref t, 15) = d3;
            }
        }

        for (var j = 0; j < CaseStudyForward.Classes; j++)
        {
            for (var n = 0; n < 4; n++)
            {
                ref var t = ref Unsafe.Add(ref s, (j * 16) + (n * 4));
                logits[(n * Classes) + j] = Vector256.Sum((t + Unsafe.Add(ref t, 1)) + (Unsafe.Add(ref t, 2) + Unsafe.Add(ref t, 3))) + bias[j];
            }
        }
    }

    /// <summary>The ten logits of 3,456 features.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Linear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> features, Span<float> logits)
    {
        if (CaseStudyLanes.Narrow is { } narrow)
        {
            narrow.Linear(weight, bias, features, logits);
            return;
        }

        Debug.Assert(weight.Length >= CaseStudyForward.Classes * Features && bias.Length >= CaseStudyForward.Classes && features.Length >= Features);
        ref var x = ref MemoryMarshal.GetReference(features);
        ref var w = ref MemoryMarshal.GetReference(weight);
        for (var j = 0; j < CaseStudyForward.Classes; j++)
        {
            ref var row = ref Unsafe.Add(ref w, j * Features);

            // Four independent sums hide the latency of the multiply-adds; 3456 = 108 x 32.
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (nuint i = 0; i < Features; i += 4 * Lanes)
            {
                s0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i), Vector256.LoadUnsafe(ref x, i), s0);
                s1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i + Lanes), Vector256.LoadUnsafe(ref x, i + Lanes), s1);
                s2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i + (2 * Lanes)), Vector256.LoadUnsafe(ref x, i + (2 * Lanes)), s2);
                s3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i + (3 * Lanes)), Vector256.LoadUnsafe(ref x, i + (3 * Lanes)), s3);
            }

            logits[j] = Vector256.Sum((s0 + s1) + (s2 + s3)) + bias[j];
        }
    }
}
