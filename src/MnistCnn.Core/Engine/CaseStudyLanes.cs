using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// The case study's kernels (<see cref="CaseStudyForward"/>, <see cref="CaseStudyBackward"/>) for vectors narrower
/// than 256 bits: 128 bits, which a browser's WebAssembly runtime accelerates while it emulates 256, and scalar
/// code for a runtime with no SIMD at all. Same layouts, same arguments, same answers.
/// </summary>
/// <remarks>
/// Every output value goes through the same operations in the same order as in the 256-bit kernels, so the
/// element-wise results (activations, gradients per position) are the same bits wherever the multiply-adds fuse
/// alike. Sums over positions are kept as the 256-bit kernels keep them, eight lanes each summed in position
/// order (<c>8 / Count</c> vectors here), then added in <c>Vector256.Sum</c>'s order (<see cref="CaseStudyLanes.Sum8"/>), so
/// they match too. On a runtime without fused multiply-adds (WebAssembly) products round before they are added.
/// </remarks>
/// <typeparam name="TOps">The operations of one width.</typeparam>
/// <typeparam name="TVector">Its vector type.</typeparam>
internal sealed class CaseStudyLanes<TOps, TVector> : ICaseStudyKernels
    where TOps : struct, ICaseStudyOps<TVector>
    where TVector : unmanaged
{
    /// <summary>The lanes of the 256-bit kernels whose sums these reproduce.</summary>
    private const int Lanes = 8;

    private const int InputStride = CaseStudyForward.InputStride;
    private const int Conv1Stride = CaseStudyForward.Conv1Stride;
    private const int Conv1Plane = CaseStudyForward.Conv1Plane;
    private const int Conv2Size = 24;
    private const int Conv2Plane = Conv2Size * Conv2Size;
    private const int Features = CaseStudyForward.Features;
    private const int Classes = CaseStudyForward.Classes;
    private const int Da2Stride = CaseStudyBackward.Da2Stride;
    private const int Da2Plane = CaseStudyBackward.Da2Plane;

    private CaseStudyLanes()
    {
    }

    /// <summary>The kernels of this width (they hold no state).</summary>
    public static CaseStudyLanes<TOps, TVector> Instance { get; } = new();

    /// <summary>Vectors per group of eight lanes.</summary>
    private static int Groups => Lanes / TOps.Count;

    /// <inheritdoc cref="CaseStudyForward.Conv1"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Conv1(ReadOnlySpan<float> weight, ReadOnlySpan<float> biases, ReadOnlySpan<float> input, Span<float> output)
    {
        Debug.Assert(weight.Length >= CaseStudyForward.Conv1WeightLength && biases.Length >= 3 && input.Length >= CaseStudyForward.InputLength
            && output.Length >= 3 * Conv1Plane);
        ref var source = ref MemoryMarshal.GetReference(input);
        ref var destination = ref MemoryMarshal.GetReference(output);
        for (var channel = 0; channel < CaseStudyForward.Conv1Channels; channel++)
        {
            var k = weight.Slice(channel * 9, 9);
            TVector k0 = TOps.Broadcast(k[0]), k1 = TOps.Broadcast(k[1]), k2 = TOps.Broadcast(k[2]);
            TVector k3 = TOps.Broadcast(k[3]), k4 = TOps.Broadcast(k[4]), k5 = TOps.Broadcast(k[5]);
            TVector k6 = TOps.Broadcast(k[6]), k7 = TOps.Broadcast(k[7]), k8 = TOps.Broadcast(k[8]);
            var bias = TOps.Broadcast(biases[channel]);
            for (var y = 0; y < CaseStudyForward.Conv1Size; y++)
            {
                for (var x = 0; x < Conv1Stride; x += TOps.Count)
                {
                    ref var at = ref Unsafe.Add(ref source, (y * InputStride) + x);
                    var sum = TOps.MultiplyAdd(TOps.Load(ref at), k0, bias);
                    sum = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref at, 1)), k1, sum);
                    sum = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref at, 2)), k2, sum);
                    at = ref Unsafe.Add(ref at, InputStride);
                    sum = TOps.MultiplyAdd(TOps.Load(ref at), k3, sum);
                    sum = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref at, 1)), k4, sum);
                    sum = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref at, 2)), k5, sum);
                    at = ref Unsafe.Add(ref at, InputStride);
                    sum = TOps.MultiplyAdd(TOps.Load(ref at), k6, sum);
                    sum = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref at, 1)), k7, sum);
                    sum = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref at, 2)), k8, sum);
                    TOps.Store(TOps.Sigmoid(sum), ref Unsafe.Add(ref destination, (channel * Conv1Plane) + (y * Conv1Stride) + x));
                }
            }
        }
    }

    /// <inheritdoc cref="CaseStudyForward.Conv2"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Conv2(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> input, Span<float> output)
    {
        Debug.Assert(weight.Length >= CaseStudyForward.Conv2WeightLength && bias.Length >= 6 && input.Length >= 3 * Conv1Plane && output.Length >= Features);
        ref var source = ref MemoryMarshal.GetReference(input);
        ref var destination = ref MemoryMarshal.GetReference(output);
        ref var w = ref MemoryMarshal.GetReference(weight);

        // Three output channels at a time share every input load, as in the 256-bit kernel.
        for (var first = 0; first < CaseStudyForward.Conv2Channels; first += 3)
        {
            ref var k0 = ref Unsafe.Add(ref w, first * CaseStudyForward.Conv2KernelLength);
            ref var k1 = ref Unsafe.Add(ref k0, CaseStudyForward.Conv2KernelLength);
            ref var k2 = ref Unsafe.Add(ref k1, CaseStudyForward.Conv2KernelLength);
            var bias0 = TOps.Broadcast(bias[first]);
            var bias1 = TOps.Broadcast(bias[first + 1]);
            var bias2 = TOps.Broadcast(bias[first + 2]);
            for (var y = 0; y < Conv2Size; y++)
            {
                for (var x = 0; x < Conv2Size; x += TOps.Count)
                {
                    TVector a0 = bias0, a1 = bias1, a2 = bias2;
                    for (var row = 0; row < 9; row++)
                    {
                        // row = input channel * 3 + ky; its three taps are row * 3 + kx.
                        ref var at = ref Unsafe.Add(ref source, ((row / 3) * Conv1Plane) + ((y + (row % 3)) * Conv1Stride) + x);
                        var tap = row * 3;
                        for (var kx = 0; kx < 3; kx++, tap++)
                        {
                            var xa = TOps.Load(ref Unsafe.Add(ref at, kx));
                            a0 = TOps.MultiplyAdd(xa, TOps.Broadcast(Unsafe.Add(ref k0, tap)), a0);
                            a1 = TOps.MultiplyAdd(xa, TOps.Broadcast(Unsafe.Add(ref k1, tap)), a1);
                            a2 = TOps.MultiplyAdd(xa, TOps.Broadcast(Unsafe.Add(ref k2, tap)), a2);
                        }
                    }

                    ref var to = ref Unsafe.Add(ref destination, (first * Conv2Plane) + (y * Conv2Size) + x);
                    TOps.Store(TOps.Sigmoid(a0), ref to);
                    TOps.Store(TOps.Sigmoid(a1), ref Unsafe.Add(ref to, Conv2Plane));
                    TOps.Store(TOps.Sigmoid(a2), ref Unsafe.Add(ref to, 2 * Conv2Plane));
                }
            }
        }
    }

    /// <inheritdoc cref="CaseStudyForward.Linear"/>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Linear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> features, Span<float> logits)
    {
        Debug.Assert(weight.Length >= Classes * Features && bias.Length >= Classes && features.Length >= Features);
        ref var x = ref MemoryMarshal.GetReference(features);
        ref var w = ref MemoryMarshal.GetReference(weight);

        // The 256-bit kernel's four sums of eight lanes, each lane summing every 32nd product in order.
        var count = 4 * Groups;
        Span<TVector> sums = stackalloc TVector[count];
        ref var s = ref MemoryMarshal.GetReference(sums);
        Span<TVector> combined = stackalloc TVector[Groups];
        for (var j = 0; j < Classes; j++)
        {
            ref var row = ref Unsafe.Add(ref w, j * Features);
            sums.Clear();
            for (var i = 0; i < Features; i += 4 * Lanes)
            {
                ref var wi = ref Unsafe.Add(ref row, i);
                ref var xi = ref Unsafe.Add(ref x, i);
                for (var m = 0; m < count; m++)
                {
                    var at = m * TOps.Count;
                    Unsafe.Add(ref s, m) = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref wi, at)), TOps.Load(ref Unsafe.Add(ref xi, at)), Unsafe.Add(ref s, m));
                }
            }

            // (s0 + s1) + (s2 + s3), lane for lane, then the lanes.
            var groups = Groups;
            for (var g = 0; g < groups; g++)
            {
                combined[g] = TOps.Add(
                    TOps.Add(Unsafe.Add(ref s, g), Unsafe.Add(ref s, g + groups)),
                    TOps.Add(Unsafe.Add(ref s, g + (2 * groups)), Unsafe.Add(ref s, g + (3 * groups))));
            }

            logits[j] = LaneSum(combined) + bias[j];
        }
    }

    /// <inheritdoc cref="CaseStudyBackward.Conv2OutputGradient"/>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Conv2OutputGradient(
        ReadOnlySpan<float> linearWeight, ReadOnlySpan<float> logitGradient, ReadOnlySpan<float> features, Span<float> da2, Span<float> conv2BiasGradient,
        int channel)
    {
        Debug.Assert(linearWeight.Length >= Classes * Features && features.Length >= Features && da2.Length >= CaseStudyBackward.Da2Length
            && conv2BiasGradient.Length >= 6 && (uint)channel < 6);
        ref var w = ref MemoryMarshal.GetReference(linearWeight);
        ref var h = ref MemoryMarshal.GetReference(features);
        ref var destination = ref MemoryMarshal.GetReference(da2);
        var d0 = TOps.Broadcast(logitGradient[0]);
        var d1 = TOps.Broadcast(logitGradient[1]);
        var d2 = TOps.Broadcast(logitGradient[2]);
        var d3 = TOps.Broadcast(logitGradient[3]);
        var d4 = TOps.Broadcast(logitGradient[4]);
        var d5 = TOps.Broadcast(logitGradient[5]);
        var d6 = TOps.Broadcast(logitGradient[6]);
        var d7 = TOps.Broadcast(logitGradient[7]);
        var d8 = TOps.Broadcast(logitGradient[8]);
        var d9 = TOps.Broadcast(logitGradient[9]);
        // One group (256 bits) keeps its bias sum in a register; narrower widths sum each group of lanes apart.
        Span<TVector> biasSums = stackalloc TVector[Groups];
        biasSums.Clear();
        var biasSum = TOps.Zero;
        for (var y = 0; y < Conv2Size; y++)
        {
            for (var x = 0; x < Conv2Size; x += TOps.Count)
            {
                var i = (channel * Conv2Plane) + (y * Conv2Size) + x;
                ref var wi = ref Unsafe.Add(ref w, i);
                var even = TOps.Multiply(TOps.Load(ref wi), d0);
                var odd = TOps.Multiply(TOps.Load(ref Unsafe.Add(ref wi, Features)), d1);
                even = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref wi, 2 * Features)), d2, even);
                odd = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref wi, 3 * Features)), d3, odd);
                even = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref wi, 4 * Features)), d4, even);
                odd = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref wi, 5 * Features)), d5, odd);
                even = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref wi, 6 * Features)), d6, even);
                odd = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref wi, 7 * Features)), d7, odd);
                even = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref wi, 8 * Features)), d8, even);
                odd = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref wi, 9 * Features)), d9, odd);
                var d = TOps.SigmoidBackward(TOps.Add(even, odd), TOps.Load(ref Unsafe.Add(ref h, i)));
                TOps.Store(d, ref Unsafe.Add(ref destination, (channel * Da2Plane) + ((y + 2) * Da2Stride) + 2 + x));
                if (Groups == 1)
                {
                    biasSum = TOps.Add(biasSum, d);
                }
                else
                {
                    var lane = (x % Lanes) / TOps.Count;
                    biasSums[lane] = TOps.Add(biasSums[lane], d);
                }
            }
        }

        conv2BiasGradient[channel] = Groups == 1 ? TOps.Sum(biasSum) : LaneSum(biasSums);
    }

    /// <inheritdoc cref="CaseStudyBackward.Conv2WeightGradient"/>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Conv2WeightGradient(ReadOnlySpan<float> da2, ReadOnlySpan<float> conv1, Span<float> gradient)
    {
        Debug.Assert(da2.Length >= CaseStudyBackward.Da2Length && conv1.Length >= 3 * Conv1Plane && gradient.Length >= CaseStudyForward.Conv2WeightLength);
        ref var g = ref MemoryMarshal.GetReference(da2);
        ref var a = ref MemoryMarshal.GetReference(conv1);
        Span<TVector> sums = stackalloc TVector[9 * Groups];
        for (var o = 0; o < 6; o++)
        {
            for (var c = 0; c < 3; c++)
            {
                sums.Clear();
                for (var y = 0; y < Conv2Size; y++)
                {
                    for (var x = 0; x < Conv2Size; x += TOps.Count)
                    {
                        var d = TOps.Load(ref Unsafe.Add(ref g, (o * Da2Plane) + ((y + 2) * Da2Stride) + 2 + x));
                        TapSums(d, ref Unsafe.Add(ref a, (c * Conv1Plane) + (y * Conv1Stride) + x), Conv1Stride, sums, (x % Lanes) / TOps.Count);
                    }
                }

                KernelSums(sums, gradient.Slice((o * CaseStudyForward.Conv2KernelLength) + (c * 9), 9));
            }
        }
    }

    /// <inheritdoc cref="CaseStudyBackward.Conv1OutputGradient"/>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Conv1OutputGradient(
        ReadOnlySpan<float> da2, ReadOnlySpan<float> flippedConv2Weight, ReadOnlySpan<float> conv1, Span<float> da1, Span<float> conv1BiasGradient)
    {
        Debug.Assert(da2.Length >= CaseStudyBackward.Da2Length && flippedConv2Weight.Length >= CaseStudyForward.Conv2WeightLength
            && conv1.Length >= CaseStudyBackward.Da1Length && da1.Length >= CaseStudyBackward.Da1Length && conv1BiasGradient.Length >= 3);
        ref var g = ref MemoryMarshal.GetReference(da2);
        ref var w = ref MemoryMarshal.GetReference(flippedConv2Weight);
        ref var h = ref MemoryMarshal.GetReference(conv1);
        ref var destination = ref MemoryMarshal.GetReference(da1);
        var groups = Groups;
        Span<TVector> biasSums = stackalloc TVector[3 * groups];
        biasSums.Clear();
        for (var y = 0; y < CaseStudyForward.Conv1Size; y++)
        {
            for (var x = 0; x < Conv1Stride; x += TOps.Count)
            {
                TVector a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero;
                for (var row = 0; row < 18; row++)
                {
                    // row = conv2 channel * 3 + ky; its three taps are row * 3 + kx.
                    ref var at = ref Unsafe.Add(ref g, ((row / 3) * Da2Plane) + ((y + (row % 3)) * Da2Stride) + x);
                    var tap = row * 3;
                    for (var kx = 0; kx < 3; kx++, tap++)
                    {
                        var xa = TOps.Load(ref Unsafe.Add(ref at, kx));
                        a0 = TOps.MultiplyAdd(xa, TOps.Broadcast(Unsafe.Add(ref w, tap)), a0);
                        a1 = TOps.MultiplyAdd(xa, TOps.Broadcast(Unsafe.Add(ref w, tap + 54)), a1);
                        a2 = TOps.MultiplyAdd(xa, TOps.Broadcast(Unsafe.Add(ref w, tap + 108)), a2);
                    }
                }

                var to = (y * Conv1Stride) + x;
                TOps.Store(TOps.SigmoidBackward(a0, TOps.Load(ref Unsafe.Add(ref h, to))), ref Unsafe.Add(ref destination, to));
                to += Conv1Plane;
                TOps.Store(TOps.SigmoidBackward(a1, TOps.Load(ref Unsafe.Add(ref h, to))), ref Unsafe.Add(ref destination, to));
                to += Conv1Plane;
                TOps.Store(TOps.SigmoidBackward(a2, TOps.Load(ref Unsafe.Add(ref h, to))), ref Unsafe.Add(ref destination, to));
            }

            // The 256-bit kernel adds each row's four vectors as (a + b) + (c + e) to its eight-lane sums.
            for (var channel = 0; channel < 3; channel++)
            {
                ref var rowStart = ref Unsafe.Add(ref destination, (channel * Conv1Plane) + (y * Conv1Stride));
                for (var group = 0; group < groups; group++)
                {
                    ref var v = ref Unsafe.Add(ref rowStart, group * TOps.Count);
                    var rowSum = TOps.Add(
                        TOps.Add(TOps.Load(ref v), TOps.Load(ref Unsafe.Add(ref v, Lanes))),
                        TOps.Add(TOps.Load(ref Unsafe.Add(ref v, 2 * Lanes)), TOps.Load(ref Unsafe.Add(ref v, 3 * Lanes))));
                    biasSums[(channel * groups) + group] = TOps.Add(biasSums[(channel * groups) + group], rowSum);
                }
            }
        }

        conv1BiasGradient[0] = LaneSum(biasSums[..groups]);
        conv1BiasGradient[1] = LaneSum(biasSums.Slice(groups, groups));
        conv1BiasGradient[2] = LaneSum(biasSums.Slice(2 * groups, groups));
    }

    /// <inheritdoc cref="CaseStudyBackward.Conv1WeightGradient"/>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Conv1WeightGradient(ReadOnlySpan<float> da1, ReadOnlySpan<float> input, Span<float> gradient)
    {
        Debug.Assert(da1.Length >= CaseStudyBackward.Da1Length && input.Length >= CaseStudyForward.InputLength
            && gradient.Length >= CaseStudyForward.Conv1WeightLength);
        ref var g = ref MemoryMarshal.GetReference(da1);
        ref var image = ref MemoryMarshal.GetReference(input);
        Span<TVector> sums = stackalloc TVector[9 * Groups];
        for (var c = 0; c < 3; c++)
        {
            sums.Clear();
            for (var y = 0; y < CaseStudyForward.Conv1Size; y++)
            {
                for (var x = 0; x < Conv1Stride; x += TOps.Count)
                {
                    var d = TOps.Load(ref Unsafe.Add(ref g, (c * Conv1Plane) + (y * Conv1Stride) + x));
                    TapSums(d, ref Unsafe.Add(ref image, (y * InputStride) + x), InputStride, sums, (x % Lanes) / TOps.Count);
                }
            }

            KernelSums(sums, gradient.Slice(c * 9, 9));
        }
    }

    /// <inheritdoc cref="CaseStudyBackward.LinearWeightGradient"/>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void LinearWeightGradient(ReadOnlySpan<float> logitGradients, ReadOnlySpan<float> features, int count, int from, int to, Span<float> gradient)
    {
        Debug.Assert(from % Lanes == 0 && to % Lanes == 0 && to <= Features && logitGradients.Length >= count * Classes && features.Length >= count * Features);
        ref var dz = ref MemoryMarshal.GetReference(logitGradients);
        ref var f = ref MemoryMarshal.GetReference(features);
        ref var destination = ref MemoryMarshal.GetReference(gradient);
        Span<TVector> sums = stackalloc TVector[Classes];
        for (var i = from; i < to; i += TOps.Count)
        {
            sums.Clear();
            for (var n = 0; n < count; n++)
            {
                var x = TOps.Load(ref Unsafe.Add(ref f, (n * Features) + i));
                ref var d = ref Unsafe.Add(ref dz, n * Classes);
                for (var j = 0; j < Classes; j++)
                {
                    sums[j] = TOps.MultiplyAdd(x, TOps.Broadcast(Unsafe.Add(ref d, j)), sums[j]);
                }
            }

            for (var j = 0; j < Classes; j++)
            {
                TOps.Store(sums[j], ref Unsafe.Add(ref destination, i + (j * Features)));
            }
        }
    }

    /// <summary>Adds <c>d</c> times each of a 3x3 window's nine inputs (rows <paramref name="stride"/> apart) to lane group <paramref name="group"/>
    /// of the nine sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TapSums(TVector d, ref float window, int stride, Span<TVector> sums, int group)
    {
        var groups = Groups;
        ref var s = ref MemoryMarshal.GetReference(sums);
        for (var ky = 0; ky < 3; ky++)
        {
            ref var row = ref Unsafe.Add(ref window, ky * stride);
            for (var kx = 0; kx < 3; kx++)
            {
                ref var sum = ref Unsafe.Add(ref s, ((ky * 3) + kx) * groups + group);
                sum = TOps.MultiplyAdd(d, TOps.Load(ref Unsafe.Add(ref row, kx)), sum);
            }
        }
    }

    /// <summary>A 3x3 kernel's gradient: the lane sums of the nine eight-lane sums, in kernel order.</summary>
    private static void KernelSums(ReadOnlySpan<TVector> sums, Span<float> kernel)
    {
        var groups = Groups;
        for (var t = 0; t < 9; t++)
        {
            kernel[t] = LaneSum(sums.Slice(t * groups, groups));
        }
    }

    /// <summary>The sum of eight lanes held in <see cref="Groups"/> vectors, in <see cref="CaseStudyLanes.Sum8"/>'s order.</summary>
    [SkipLocalsInit]
    private static float LaneSum(ReadOnlySpan<TVector> groups)
    {
        Span<float> lanes = stackalloc float[Lanes];
        for (var g = 0; g < groups.Length; g++)
        {
            TOps.Store(groups[g], ref lanes[g * TOps.Count]);
        }

        return CaseStudyLanes.Sum8(lanes);
    }
}

/// <summary>What the case study's kernels of every width share.</summary>
internal static class CaseStudyLanes
{
    /// <summary>
    /// The kernels for this machine's vector width (<see cref="VectorWidth.Bits"/>) when it is under 256 bits;
    /// <see langword="null"/> when the 256-bit kernels apply.
    /// </summary>
    public static ICaseStudyKernels? Narrow => VectorWidth.Bits switch
    {
        >= 256 => null,
        >= 128 => CaseStudyLanes<CaseStudy128, Vector128<float>>.Instance,
        _ => CaseStudyLanes<CaseStudyScalar, float>.Instance,
    };

    /// <summary><c>2^23 + 127</c>: added to an integral float n in [-126, 128], it leaves <c>n + 127</c> in the low mantissa bits.</summary>
    public const float ExponentBias = 8388735f;

    /// <summary>
    /// The sum of eight lanes in the order <c>Vector256.Sum</c> adds a 256-bit vector's lanes on .NET 9 and later:
    /// <c>((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))</c>, the sums of its two halves, each by pairs.
    /// </summary>
    public static float Sum8(ReadOnlySpan<float> lanes) =>
        ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));

    /// <summary>
    /// e^x in float32, within 2 units in the last place for |x| below 87 (Cephes' expf: x = n ln 2 + r with
    /// |r| at most ln 2 / 2, a degree-6 polynomial for e^r, and 2^n put into the exponent bits). Inputs are
    /// clamped to [-87, 88.5], so very negative x gives a tiny number instead of 0, which a sigmoid
    /// cannot tell apart. Vector256.Exp computes in float64, at about twice the cost.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Exp<TOps, TVector>(TVector x)
        where TOps : struct, ICaseStudyOps<TVector>
        where TVector : unmanaged
    {
        x = TOps.Clamp(x, -87f, 88.5f);
        var n = TOps.Floor(TOps.MultiplyAdd(x, TOps.Broadcast(1.44269504088896341f), TOps.Broadcast(0.5f)));
        var r = TOps.MultiplyAdd(n, TOps.Broadcast(-0.693359375f), x);
        r = TOps.MultiplyAdd(n, TOps.Broadcast(2.12194440e-4f), r);
        var p = TOps.Broadcast(1.9875691500e-4f);
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1.3981999507e-3f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(8.3334519073e-3f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(4.1665795894e-2f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1.6666665459e-1f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(5.0000001201e-1f));
        p = TOps.Add(TOps.MultiplyAdd(p, TOps.Multiply(r, r), r), TOps.Broadcast(1f));
        return TOps.Multiply(p, TOps.PowerOfTwo(n));
    }
}
