using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// The case-study network's backward pass for one image in managed code (float32, 256-bit vectors): softmax
/// cross-entropy, the linear layer's input gradient through conv2's sigmoid, conv2's weight gradient, conv1's
/// output gradient through its sigmoid, conv1's weight gradient, and the biases' gradients.
/// </summary>
/// <remarks>
/// <para>
/// Layouts follow <see cref="CaseStudyForward"/>: the padded input (rows of 32 floats), conv1's three planes
/// (26 rows of 32 floats) and conv2's 3,456 features (channel-major rows of 24). conv2's pre-activation
/// gradient is kept in planes of <see cref="Da2Plane"/> floats with a border of zeros, two rows above and
/// two columns to the left and at least six to the right, so conv1's output gradient is an ordinary
/// correlation of that border-padded gradient with conv2's kernels turned by 180 degrees (the
/// <see cref="FlipConv2Weight"/> layout), computed with whole vectors like the forward convolutions.
/// Columns 26-31 of conv1's output gradient then come out exactly zero, so the weight-gradient sums may
/// run over whole vectors.
/// </para>
/// <para>Every kernel writes its outputs (it never adds to them), so a step needs no zeroing of gradients.</para>
/// <para>
/// The kernels are compiled fully optimised from their first call (<see cref="MethodImplOptions.AggressiveOptimization"/>):
/// with tiered compilation the first epoch ran partly in unoptimised code (measured: 2.16 s against 1.26 s
/// for the second epoch of the same run).
/// </para>
/// </remarks>
internal static class CaseStudyBackward
{
    /// <summary>Floats per image of the convolution gradients: conv1.weight (27), conv1.bias (3), conv2.weight (162), conv2.bias (6).</summary>
    public const int ConvGradientLength = Conv2BiasOffset + CaseStudyForward.Conv2Channels;

    /// <summary>Where conv1.bias's gradient starts in an image's convolution gradients.</summary>
    public const int Conv1BiasOffset = CaseStudyForward.Conv1WeightLength;

    /// <summary>Where conv2.weight's gradient starts in an image's convolution gradients.</summary>
    public const int Conv2WeightOffset = Conv1BiasOffset + CaseStudyForward.Conv1Channels;

    /// <summary>Where conv2.bias's gradient starts in an image's convolution gradients.</summary>
    public const int Conv2BiasOffset = Conv2WeightOffset + CaseStudyForward.Conv2WeightLength;

    /// <summary>Floats per row of conv2's border-padded gradient.</summary>
    public const int Da2Stride = 32;

    /// <summary>
    /// Floats per channel of conv2's border-padded gradient: rows 0-1 zero, rows 2-25 hold the 24 rows in
    /// columns 2-25, rows 26-28 zero (row 28 is read by the last vector of the correlation's last row).
    /// </summary>
    public const int Da2Plane = 29 * Da2Stride;

    /// <summary>Floats of conv2's border-padded gradient for the six channels.</summary>
    public const int Da2Length = 6 * Da2Plane;

    /// <summary>Floats of conv1's output gradient (three planes of conv1's layout).</summary>
    public const int Da1Length = 3 * CaseStudyForward.Conv1Plane;

    private const int Lanes = 8;
    private const int Conv2Size = 24;
    private const int Conv2PlaneSize = Conv2Size * Conv2Size;
    private const int Conv1Stride = CaseStudyForward.Conv1Stride;
    private const int Conv1Plane = CaseStudyForward.Conv1Plane;
    private const int Features = CaseStudyForward.Features;

    /// <summary>
    /// conv2's kernels turned by 180 degrees and regrouped per conv1 channel:
    /// <c>flipped[c, o, ky, kx] = w2[o, c, 2 - ky, 2 - kx]</c> (3 x 6 x 3 x 3).
    /// </summary>
    public static void FlipConv2Weight(ReadOnlySpan<float> conv2Weight, Span<float> flipped)
    {
        Debug.Assert(conv2Weight.Length >= CaseStudyForward.Conv2WeightLength && flipped.Length >= CaseStudyForward.Conv2WeightLength);
        for (var c = 0; c < 3; c++)
        {
            for (var o = 0; o < 6; o++)
            {
                for (var k = 0; k < 9; k++)
                {
                    flipped[(c * 54) + (o * 9) + k] = conv2Weight[(o * CaseStudyForward.Conv2KernelLength) + (c * 9) + 8 - k];
                }
            }
        }
    }

    /// <summary>
    /// conv2's pre-activation gradient in one output channel: <c>(Wᵀ dz) (1 - h) h</c> for the features h, into that
    /// channel's border-padded plane of da2 (whose border the caller has zeroed once), and
    /// <c>conv2BiasGradient[channel]</c> (the plane's sum). One channel at a time, so the step can run a channel for
    /// several images while that channel's 23 KB of linear1.weight stays in the level-1 cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Conv2OutputGradient(
        ReadOnlySpan<float> linearWeight, ReadOnlySpan<float> logitGradient, ReadOnlySpan<float> features, Span<float> da2, Span<float> conv2BiasGradient,
        int channel) =>
        (CaseStudyLanes.Narrow ?? CaseStudyLanes<CaseStudy256, Vector256<float>>.Instance)
            .Conv2OutputGradient(linearWeight, logitGradient, features, da2, conv2BiasGradient, channel);

    /// <summary>
    /// <see cref="Conv2OutputGradient"/> for four images at once, every channel: image n's logit gradients at
    /// <c>logitGradients[10 n]</c>, features at <c>features[3456 n]</c>, border-padded planes at <c>da2[Da2Length n]</c> and
    /// convolution gradients at <c>gradients[ConvGradientLength n]</c> (conv2.bias's at its offset there). Each vector of
    /// linear1.weight is loaded once for the four images; each image's values are the one-image kernel's, in its order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Conv2OutputGradient4(
        ReadOnlySpan<float> linearWeight, ReadOnlySpan<float> logitGradients, ReadOnlySpan<float> features, Span<float> da2, Span<float> gradients)
    {
        if (CaseStudyLanes.Narrow is { } narrow)
        {
            for (var channel = 0; channel < CaseStudyForward.Conv2Channels; channel++)
            {
                for (var n = 0; n < 4; n++)
                {
                    narrow.Conv2OutputGradient(
                        linearWeight, logitGradients.Slice(n * CaseStudyForward.Classes, CaseStudyForward.Classes), features.Slice(n * Features, Features),
                        da2.Slice(n * Da2Length, Da2Length), gradients.Slice((n * ConvGradientLength) + Conv2BiasOffset), channel);
                }
            }

            return;
        }

        Debug.Assert(linearWeight.Length >= CaseStudyForward.Classes * Features && logitGradients.Length >= 4 * CaseStudyForward.Classes
            && features.Length >= 4 * Features && da2.Length >= 4 * Da2Length && gradients.Length >= 4 * ConvGradientLength);
        ref var w = ref MemoryMarshal.GetReference(linearWeight);
        ref var dz = ref MemoryMarshal.GetReference(logitGradients);
        ref var h = ref MemoryMarshal.GetReference(features);
        ref var destination = ref MemoryMarshal.GetReference(da2);
        for (var o = 0; o < 6; o++)
        {
            Vector256<float> bias0 = default, bias1 = default, bias2 = default, bias3 = default;
            for (var y = 0; y < Conv2Size; y++)
            {
                for (var x = 0; x < Conv2Size; x += Lanes)
                {
                    var i = (nuint)((o * Conv2PlaneSize) + (y * Conv2Size) + x);
                    var to = (nuint)((o * Da2Plane) + ((y + 2) * Da2Stride) + 2 + x);
                    var w0 = Vector256.LoadUnsafe(ref w, i);
                    var w1 = Vector256.LoadUnsafe(ref w, i + Features);
                    var w2 = Vector256.LoadUnsafe(ref w, i + (2 * Features));
                    var w3 = Vector256.LoadUnsafe(ref w, i + (3 * Features));
                    var w4 = Vector256.LoadUnsafe(ref w, i + (4 * Features));
                    var w5 = Vector256.LoadUnsafe(ref w, i + (5 * Features));
                    var w6 = Vector256.LoadUnsafe(ref w, i + (6 * Features));
                    var w7 = Vector256.LoadUnsafe(ref w, i + (7 * Features));
                    var w8 = Vector256.LoadUnsafe(ref w, i + (8 * Features));
                    var w9 = Vector256.LoadUnsafe(ref w, i + (9 * Features));
                    var d = OutputGradient(w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, ref dz, Vector256.LoadUnsafe(ref h, i));
                    d.StoreUnsafe(ref destination, to);
                    bias0 += d;
                    d = OutputGradient(w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, ref Unsafe.Add(ref dz, 10), Vector256.LoadUnsafe(ref h, i + Features));
                    d.StoreUnsafe(ref destination, to + Da2Length);
                    bias1 += d;
                    d = OutputGradient(w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, ref Unsafe.Add(ref dz, 20), Vector256.LoadUnsafe(ref h, i + (2 * Features)));
                    d.StoreUnsafe(ref destination, to + (2 * Da2Length));
                    bias2 += d;
                    d = OutputGradient(w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, ref Unsafe.Add(ref dz, 30), Vector256.LoadUnsafe(ref h, i + (3 * Features)));
                    d.StoreUnsafe(ref destination, to + (3 * Da2Length));
                    bias3 += d;
                }
            }

            gradients[Conv2BiasOffset + o] = Vector256.Sum(bias0);
            gradients[ConvGradientLength + Conv2BiasOffset + o] = Vector256.Sum(bias1);
            gradients[(2 * ConvGradientLength) + Conv2BiasOffset + o] = Vector256.Sum(bias2);
            gradients[(3 * ConvGradientLength) + Conv2BiasOffset + o] = Vector256.Sum(bias3);
        }
    }

    /// <summary>conv2.weight's gradient: for every tap, the sum over the 24 x 24 positions of da2 times conv1's output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Conv2WeightGradient(ReadOnlySpan<float> da2, ReadOnlySpan<float> conv1, Span<float> gradient)
    {
        if (CaseStudyLanes.Narrow is { } narrow)
        {
            narrow.Conv2WeightGradient(da2, conv1, gradient);
            return;
        }

        Debug.Assert(da2.Length >= Da2Length && conv1.Length >= 3 * Conv1Plane && gradient.Length >= CaseStudyForward.Conv2WeightLength);
        ref var g = ref MemoryMarshal.GetReference(da2);
        ref var a = ref MemoryMarshal.GetReference(conv1);

        // Two output channels at a time (18 sums): every load of conv1's output serves both, where it served one and the
        // kernel waited on its loads (measured ~1.2 multiply-adds a cycle). Each sum adds the same products in the same
        // order as one channel at a time would.
        for (var o = 0; o < 6; o += 2)
        {
            for (var c = 0; c < 3; c++)
            {
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default, s8 = default;
                Vector256<float> t0 = default, t1 = default, t2 = default, t3 = default, t4 = default, t5 = default, t6 = default, t7 = default, t8 = default;
                for (var y = 0; y < Conv2Size; y++)
                {
                    for (var x = 0; x < Conv2Size; x += Lanes)
                    {
                        var from = (nuint)((o * Da2Plane) + ((y + 2) * Da2Stride) + 2 + x);
                        var d = Vector256.LoadUnsafe(ref g, from);
                        var e = Vector256.LoadUnsafe(ref g, from + Da2Plane);
                        var at = (nuint)((c * Conv1Plane) + (y * Conv1Stride) + x);
                        var v = Vector256.LoadUnsafe(ref a, at);
                        s0 = Vector256.MultiplyAddEstimate(d, v, s0);
                        t0 = Vector256.MultiplyAddEstimate(e, v, t0);
                        v = Vector256.LoadUnsafe(ref a, at + 1);
                        s1 = Vector256.MultiplyAddEstimate(d, v, s1);
                        t1 = Vector256.MultiplyAddEstimate(e, v, t1);
                        v = Vector256.LoadUnsafe(ref a, at + 2);
                        s2 = Vector256.MultiplyAddEstimate(d, v, s2);
                        t2 = Vector256.MultiplyAddEstimate(e, v, t2);
                        at += Conv1Stride;
                        v = Vector256.LoadUnsafe(ref a, at);
                        s3 = Vector256.MultiplyAddEstimate(d, v, s3);
                        t3 = Vector256.MultiplyAddEstimate(e, v, t3);
                        v = Vector256.LoadUnsafe(ref a, at + 1);
                        s4 = Vector256.MultiplyAddEstimate(d, v, s4);
                        t4 = Vector256.MultiplyAddEstimate(e, v, t4);
                        v = Vector256.LoadUnsafe(ref a, at + 2);
                        s5 = Vector256.MultiplyAddEstimate(d, v, s5);
                        t5 = Vector256.MultiplyAddEstimate(e, v, t5);
                        at += Conv1Stride;
                        v = Vector256.LoadUnsafe(ref a, at);
                        s6 = Vector256.MultiplyAddEstimate(d, v, s6);
                        t6 = Vector256.MultiplyAddEstimate(e, v, t6);
                        v = Vector256.LoadUnsafe(ref a, at + 1);
                        s7 = Vector256.MultiplyAddEstimate(d, v, s7);
                        t7 = Vector256.MultiplyAddEstimate(e, v, t7);
                        v = Vector256.LoadUnsafe(ref a, at + 2);
                        s8 = Vector256.MultiplyAddEstimate(d, v, s8);
                        t8 = Vector256.MultiplyAddEstimate(e, v, t8);
                    }
                }

                KernelSums(gradient.Slice((o * CaseStudyForward.Conv2KernelLength) + (c * 9), 9), s0, s1, s2, s3, s4, s5, s6, s7, s8);
                KernelSums(gradient.Slice(((o + 1) * CaseStudyForward.Conv2KernelLength) + (c * 9), 9), t0, t1, t2, t3, t4, t5, t6, t7, t8);
            }
        }
    }

    /// <summary>
    /// conv1's pre-activation gradient: the correlation of the border-padded da2 with the turned kernels
    /// (<see cref="FlipConv2Weight"/>), times <c>(1 - h) h</c> for conv1's output h, in conv1's layout (columns
    /// 26-31 exactly zero); and conv1.bias's gradient.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Conv1OutputGradient(
        ReadOnlySpan<float> da2, ReadOnlySpan<float> flippedConv2Weight, ReadOnlySpan<float> conv1, Span<float> da1, Span<float> conv1BiasGradient)
    {
        if (CaseStudyLanes.Narrow is { } narrow)
        {
            narrow.Conv1OutputGradient(da2, flippedConv2Weight, conv1, da1, conv1BiasGradient);
            return;
        }

        Debug.Assert(da2.Length >= Da2Length && flippedConv2Weight.Length >= CaseStudyForward.Conv2WeightLength && conv1.Length >= Da1Length
            && da1.Length >= Da1Length && conv1BiasGradient.Length >= 3);
        ref var g = ref MemoryMarshal.GetReference(da2);
        ref var w = ref MemoryMarshal.GetReference(flippedConv2Weight);
        ref var a = ref MemoryMarshal.GetReference(conv1);
        ref var destination = ref MemoryMarshal.GetReference(da1);
        Vector256<float> bias0 = default, bias1 = default, bias2 = default;
        for (var y = 0; y < CaseStudyForward.Conv1Size; y++)
        {
            // The three conv1 channels at once share every load of da2: 12 sums of one row's four vectors.
            Vector256<float> a0 = default, b0 = default, c0 = default, e0 = default;
            Vector256<float> a1 = default, b1 = default, c1 = default, e1 = default;
            Vector256<float> a2 = default, b2 = default, c2 = default, e2 = default;
            // da2's rows 0-1 and 26-28 are its zero border: the rows of the kernel that would read them add nothing.
            var firstRow = Math.Max(0, 2 - y);
            var lastRow = Math.Min(2, 25 - y);
            for (var row = 0; row < 18; row++)
            {
                // row = conv2 channel * 3 + ky; its three taps are row * 3 + kx.
                var ky = row % 3;
                if (ky < firstRow || ky > lastRow)
                {
                    continue;
                }

                var at = (nuint)(((row / 3) * Da2Plane) + ((y + ky) * Da2Stride));
                for (var kx = 0; kx < 3; kx++, at++)
                {
                    var tap = (nuint)((row * 3) + kx);
                    var xa = Vector256.LoadUnsafe(ref g, at);
                    var xb = Vector256.LoadUnsafe(ref g, at + Lanes);
                    var xc = Vector256.LoadUnsafe(ref g, at + (2 * Lanes));
                    var xe = Vector256.LoadUnsafe(ref g, at + (3 * Lanes));
                    var t0 = Vector256.Create(Unsafe.Add(ref w, tap));
                    a0 = Vector256.MultiplyAddEstimate(xa, t0, a0);
                    b0 = Vector256.MultiplyAddEstimate(xb, t0, b0);
                    c0 = Vector256.MultiplyAddEstimate(xc, t0, c0);
                    e0 = Vector256.MultiplyAddEstimate(xe, t0, e0);
                    var t1 = Vector256.Create(Unsafe.Add(ref w, tap + 54));
                    a1 = Vector256.MultiplyAddEstimate(xa, t1, a1);
                    b1 = Vector256.MultiplyAddEstimate(xb, t1, b1);
                    c1 = Vector256.MultiplyAddEstimate(xc, t1, c1);
                    e1 = Vector256.MultiplyAddEstimate(xe, t1, e1);
                    var t2 = Vector256.Create(Unsafe.Add(ref w, tap + 108));
                    a2 = Vector256.MultiplyAddEstimate(xa, t2, a2);
                    b2 = Vector256.MultiplyAddEstimate(xb, t2, b2);
                    c2 = Vector256.MultiplyAddEstimate(xc, t2, c2);
                    e2 = Vector256.MultiplyAddEstimate(xe, t2, e2);
                }
            }

            var to = (nuint)(y * Conv1Stride);
            bias0 += Store(a0, b0, c0, e0, ref a, ref destination, to);
            bias1 += Store(a1, b1, c1, e1, ref a, ref destination, to + Conv1Plane);
            bias2 += Store(a2, b2, c2, e2, ref a, ref destination, to + (2 * Conv1Plane));
        }

        conv1BiasGradient[0] = Vector256.Sum(bias0);
        conv1BiasGradient[1] = Vector256.Sum(bias1);
        conv1BiasGradient[2] = Vector256.Sum(bias2);
    }

    /// <summary>conv1.weight's gradient: for every tap, the sum over the 26 x 26 positions of da1 times the input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Conv1WeightGradient(ReadOnlySpan<float> da1, ReadOnlySpan<float> input, Span<float> gradient)
    {
        if (CaseStudyLanes.Narrow is { } narrow)
        {
            narrow.Conv1WeightGradient(da1, input, gradient);
            return;
        }

        Debug.Assert(da1.Length >= Da1Length && input.Length >= CaseStudyForward.InputLength && gradient.Length >= CaseStudyForward.Conv1WeightLength);
        ref var g = ref MemoryMarshal.GetReference(da1);
        ref var image = ref MemoryMarshal.GetReference(input);

        // Channels 0 and 1 together (18 sums), so each input load serves both, then channel 2 alone; each sum adds the
        // same products in the same order as one channel at a time.
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default, s8 = default;
        Vector256<float> t0 = default, t1 = default, t2 = default, t3 = default, t4 = default, t5 = default, t6 = default, t7 = default, t8 = default;
        for (var y = 0; y < CaseStudyForward.Conv1Size; y++)
        {
            // Whole rows of 32: columns 26-31 of da1 are zero, and the reads past column 31 stay inside the padded input.
            for (var x = 0; x < Conv1Stride; x += Lanes)
            {
                var d = Vector256.LoadUnsafe(ref g, (nuint)((y * Conv1Stride) + x));
                var e = Vector256.LoadUnsafe(ref g, (nuint)(Conv1Plane + (y * Conv1Stride) + x));
                var at = (nuint)((y * CaseStudyForward.InputStride) + x);
                var v = Vector256.LoadUnsafe(ref image, at);
                s0 = Vector256.MultiplyAddEstimate(d, v, s0);
                t0 = Vector256.MultiplyAddEstimate(e, v, t0);
                v = Vector256.LoadUnsafe(ref image, at + 1);
                s1 = Vector256.MultiplyAddEstimate(d, v, s1);
                t1 = Vector256.MultiplyAddEstimate(e, v, t1);
                v = Vector256.LoadUnsafe(ref image, at + 2);
                s2 = Vector256.MultiplyAddEstimate(d, v, s2);
                t2 = Vector256.MultiplyAddEstimate(e, v, t2);
                at += CaseStudyForward.InputStride;
                v = Vector256.LoadUnsafe(ref image, at);
                s3 = Vector256.MultiplyAddEstimate(d, v, s3);
                t3 = Vector256.MultiplyAddEstimate(e, v, t3);
                v = Vector256.LoadUnsafe(ref image, at + 1);
                s4 = Vector256.MultiplyAddEstimate(d, v, s4);
                t4 = Vector256.MultiplyAddEstimate(e, v, t4);
                v = Vector256.LoadUnsafe(ref image, at + 2);
                s5 = Vector256.MultiplyAddEstimate(d, v, s5);
                t5 = Vector256.MultiplyAddEstimate(e, v, t5);
                at += CaseStudyForward.InputStride;
                v = Vector256.LoadUnsafe(ref image, at);
                s6 = Vector256.MultiplyAddEstimate(d, v, s6);
                t6 = Vector256.MultiplyAddEstimate(e, v, t6);
                v = Vector256.LoadUnsafe(ref image, at + 1);
                s7 = Vector256.MultiplyAddEstimate(d, v, s7);
                t7 = Vector256.MultiplyAddEstimate(e, v, t7);
                v = Vector256.LoadUnsafe(ref image, at + 2);
                s8 = Vector256.MultiplyAddEstimate(d, v, s8);
                t8 = Vector256.MultiplyAddEstimate(e, v, t8);
            }
        }

        KernelSums(gradient[..9], s0, s1, s2, s3, s4, s5, s6, s7, s8);
        KernelSums(gradient.Slice(9, 9), t0, t1, t2, t3, t4, t5, t6, t7, t8);

        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = default;
        for (var y = 0; y < CaseStudyForward.Conv1Size; y++)
        {
            for (var x = 0; x < Conv1Stride; x += Lanes)
            {
                var d = Vector256.LoadUnsafe(ref g, (nuint)((2 * Conv1Plane) + (y * Conv1Stride) + x));
                var at = (nuint)((y * CaseStudyForward.InputStride) + x);
                s0 = Vector256.MultiplyAddEstimate(d, Vector256.LoadUnsafe(ref image, at), s0);
                s1 = Vector256.MultiplyAddEstimate(d, Vector256.LoadUnsafe(ref image, at + 1), s1);
                s2 = Vector256.MultiplyAddEstimate(d, Vector256.LoadUnsafe(ref image, at + 2), s2);
                at += CaseStudyForward.InputStride;
                s3 = Vector256.MultiplyAddEstimate(d, Vector256.LoadUnsafe(ref image, at), s3);
                s4 = Vector256.MultiplyAddEstimate(d, Vector256.LoadUnsafe(ref image, at + 1), s4);
                s5 = Vector256.MultiplyAddEstimate(d, Vector256.LoadUnsafe(ref image, at + 2), s5);
                at += CaseStudyForward.InputStride;
                s6 = Vector256.MultiplyAddEstimate(d, Vector256.LoadUnsafe(ref image, at), s6);
                s7 = Vector256.MultiplyAddEstimate(d, Vector256.LoadUnsafe(ref image, at + 1), s7);
                s8 = Vector256.MultiplyAddEstimate(d, Vector256.LoadUnsafe(ref image, at + 2), s8);
            }
        }

        KernelSums(gradient.Slice(18, 9), s0, s1, s2, s3, s4, s5, s6, s7, s8);
    }

    /// <summary>
    /// linear1.weight's gradient for the feature columns <c>[from, to)</c> (multiples of 8): the sum over the
    /// batch's images, in image order, of <c>dz[n, j] * features[n, i]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LinearWeightGradient(ReadOnlySpan<float> logitGradients, ReadOnlySpan<float> features, int count, int from, int to, Span<float> gradient)
    {
        if (CaseStudyLanes.Narrow is { } narrow)
        {
            narrow.LinearWeightGradient(logitGradients, features, count, from, to, gradient);
            return;
        }

        Debug.Assert(from % Lanes == 0 && to % Lanes == 0 && to <= Features && logitGradients.Length >= count * CaseStudyForward.Classes
            && features.Length >= count * Features);
        ref var dz = ref MemoryMarshal.GetReference(logitGradients);
        ref var f = ref MemoryMarshal.GetReference(features);
        ref var destination = ref MemoryMarshal.GetReference(gradient);
        for (var i = from; i < to; i += Lanes)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default, s8 = default,
                s9 = default;
            for (var n = 0; n < count; n++)
            {
                var x = Vector256.LoadUnsafe(ref f, (nuint)((n * Features) + i));
                ref var d = ref Unsafe.Add(ref dz, n * CaseStudyForward.Classes);
                s0 = Vector256.MultiplyAddEstimate(x, Vector256.Create(d), s0);
                s1 = Vector256.MultiplyAddEstimate(x, Vector256.Create(Unsafe.Add(ref d, 1)), s1);
                s2 = Vector256.MultiplyAddEstimate(x, Vector256.Create(Unsafe.Add(ref d, 2)), s2);
                s3 = Vector256.MultiplyAddEstimate(x, Vector256.Create(Unsafe.Add(ref d, 3)), s3);
                s4 = Vector256.MultiplyAddEstimate(x, Vector256.Create(Unsafe.Add(ref d, 4)), s4);
                s5 = Vector256.MultiplyAddEstimate(x, Vector256.Create(Unsafe.Add(ref d, 5)), s5);
                s6 = Vector256.MultiplyAddEstimate(x, Vector256.Create(Unsafe.Add(ref d, 6)), s6);
                s7 = Vector256.MultiplyAddEstimate(x, Vector256.Create(Unsafe.Add(ref d, 7)), s7);
                s8 = Vector256.MultiplyAddEstimate(x, Vector256.Create(Unsafe.Add(ref d, 8)), s8);
                s9 = Vector256.MultiplyAddEstimate(x, Vector256.Create(Unsafe.Add(ref d, 9)), s9);
            }

            var at = (nuint)i;
            s0.StoreUnsafe(ref destination, at);
            s1.StoreUnsafe(ref destination, at + Features);
            s2.StoreUnsafe(ref destination, at + (2 * Features));
            s3.StoreUnsafe(ref destination, at + (3 * Features));
            s4.StoreUnsafe(ref destination, at + (4 * Features));
            s5.StoreUnsafe(ref destination, at + (5 * Features));
            s6.StoreUnsafe(ref destination, at + (6 * Features));
            s7.StoreUnsafe(ref destination, at + (7 * Features));
            s8.StoreUnsafe(ref destination, at + (8 * Features));
            s9.StoreUnsafe(ref destination, at + (9 * Features));
        }
    }

    // One vector of conv2's pre-activation gradient: Wᵀ dz as the one-image kernel sums it (even and odd classes apart,
    // then added), through the sigmoid's backward.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> OutputGradient(
        Vector256<float> w0, Vector256<float> w1, Vector256<float> w2, Vector256<float> w3, Vector256<float> w4, Vector256<float> w5,
        Vector256<float> w6, Vector256<float> w7, Vector256<float> w8, Vector256<float> w9, ref float dz, Vector256<float> h)
    {
        var even = w0 * Vector256.Create(dz);
        var odd = w1 * Vector256.Create(Unsafe.Add(ref dz, 1));
        even = CaseStudy256.MultiplyAdd(w2, Vector256.Create(Unsafe.Add(ref dz, 2)), even);
        odd = CaseStudy256.MultiplyAdd(w3, Vector256.Create(Unsafe.Add(ref dz, 3)), odd);
        even = CaseStudy256.MultiplyAdd(w4, Vector256.Create(Unsafe.Add(ref dz, 4)), even);
        odd = CaseStudy256.MultiplyAdd(w5, Vector256.Create(Unsafe.Add(ref dz, 5)), odd);
        even = CaseStudy256.MultiplyAdd(w6, Vector256.Create(Unsafe.Add(ref dz, 6)), even);
        odd = CaseStudy256.MultiplyAdd(w7, Vector256.Create(Unsafe.Add(ref dz, 7)), odd);
        even = CaseStudy256.MultiplyAdd(w8, Vector256.Create(Unsafe.Add(ref dz, 8)), even);
        odd = CaseStudy256.MultiplyAdd(w9, Vector256.Create(Unsafe.Add(ref dz, 9)), odd);
        return CaseStudy256.SigmoidBackward(even + odd, h);
    }

    // A 3x3 kernel's gradient: the lane sums of the nine accumulators, in kernel order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KernelSums(
        Span<float> kernel, Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3, Vector256<float> s4,
        Vector256<float> s5, Vector256<float> s6, Vector256<float> s7, Vector256<float> s8)
    {
        kernel[0] = Vector256.Sum(s0);
        kernel[1] = Vector256.Sum(s1);
        kernel[2] = Vector256.Sum(s2);
        kernel[3] = Vector256.Sum(s3);
        kernel[4] = Vector256.Sum(s4);
        kernel[5] = Vector256.Sum(s5);
        kernel[6] = Vector256.Sum(s6);
        kernel[7] = Vector256.Sum(s7);
        kernel[8] = Vector256.Sum(s8);
    }

    // Stores one conv1 row of da1 = dh1 * (1 - h) * h (PyTorch's sigmoid backward) and returns its sum.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Store(
        Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> e, ref float conv1, ref float destination, nuint at)
    {
        var ha = Vector256.LoadUnsafe(ref conv1, at);
        var hb = Vector256.LoadUnsafe(ref conv1, at + Lanes);
        var hc = Vector256.LoadUnsafe(ref conv1, at + (2 * Lanes));
        var he = Vector256.LoadUnsafe(ref conv1, at + (3 * Lanes));
        a = a * (Vector256<float>.One - ha) * ha;
        b = b * (Vector256<float>.One - hb) * hb;
        c = c * (Vector256<float>.One - hc) * hc;
        e = e * (Vector256<float>.One - he) * he;
        a.StoreUnsafe(ref destination, at);
        b.StoreUnsafe(ref destination, at + Lanes);
        c.StoreUnsafe(ref destination, at + (2 * Lanes));
        e.StoreUnsafe(ref destination, at + (3 * Lanes));
        return (a + b) + (c + e);
    }
}
