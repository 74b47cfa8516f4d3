using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Wasm;

namespace MnistCnn.Core.Engine;

/// <summary>
/// The case study's prediction (<see cref="CaseStudyForward"/>'s conv1, conv2 and linear layer) in 128-bit vectors,
/// written for the WebAssembly interpreter of a browser tab, where it runs 7-20x faster than the generic 128-bit
/// kernels (docs/performance.md). Prediction only: training keeps <see cref="CaseStudyLanes{TOps, TVector}"/>.
/// </summary>
/// <remarks>
/// <para>
/// Why this shape (read from the .NET 10 Mono interpreter, then measured in Chromium; docs/performance.md): the
/// interpreter turns only some vector members into single SIMD instructions. <c>Vector128&lt;float&gt;</c>'s
/// operators (+, -, *, /) and <c>Vector128.Create(float)</c> are among them; <c>Vector128.LoadUnsafe</c>,
/// <c>Min</c>, <c>Max</c>, <c>Floor</c>, <c>ConvertToInt32</c> and <c>MultiplyAddEstimate</c> are not: they run
/// their managed fallbacks, lane by lane, with calls. On WebAssembly <see cref="PackedSimd"/>'s members all become
/// single instructions, so the few operations the operators lack go through <see cref="PackedSimd"/> where it is
/// supported and through <see cref="Vector128"/> elsewhere (the same values: the inputs are finite). Memory is
/// read through pointers, so no span bounds checks or span helpers run per vector; every multiply-add is a
/// multiply then an add (WebAssembly has no fused form), so the answers are the same bits under a JIT as in the
/// browser, and the tests check them here against the 256-bit kernels.
/// </para>
/// <para>
/// Each output value is computed as in <see cref="CaseStudyForward"/>: its taps added in the same order, the
/// linear layer's sums kept as the 256-bit kernel keeps them (four sums of eight lanes, here as pairs of 128-bit
/// vectors, added up in <see cref="CaseStudyLanes.Sum8"/>'s order); only the rounding of the multiply-adds differs.
/// </para>
/// </remarks>
internal static unsafe class CaseStudyInterpreted
{
    private const int ImageSide = 28;
    private const int InputStride = 32;

    // Two rows and two columns past the image are read (and multiplied by weights of the outputs never used).
    private const int InputLength = (ImageSide + 1) * InputStride;
    private const int Conv1Side = 26;

    // Seven vectors per conv1 row: columns 26 and 27 are computed from the padding and never read.
    private const int Conv1Stride = 28;
    private const int Conv1Plane = Conv1Side * Conv1Stride;
    private const int Conv2Side = 24;
    private const int Conv2Plane = Conv2Side * Conv2Side;
    private const int Features = 6 * Conv2Plane;
    private const int Classes = 10;

    /// <summary>
    /// The ten logits of one image (784 floats, scaled as in training) under the case study's parameters, given in
    /// its order: conv1 weight (27) and bias (3), conv2 weight (162) and bias (6), linear weight (34,560) and bias (10).
    /// </summary>
    [SkipLocalsInit]
    public static void Logits(
        ReadOnlySpan<float> image,
        ReadOnlySpan<float> conv1Weight,
        ReadOnlySpan<float> conv1Bias,
        ReadOnlySpan<float> conv2Weight,
        ReadOnlySpan<float> conv2Bias,
        ReadOnlySpan<float> linearWeight,
        ReadOnlySpan<float> linearBias,
        Span<float> logits)
    {
        Debug.Assert(image.Length == ImageSide * ImageSide && conv1Weight.Length >= 27 && conv1Bias.Length >= 3 && conv2Weight.Length >= 162
            && conv2Bias.Length >= 6 && linearWeight.Length >= Classes * Features && linearBias.Length >= Classes && logits.Length >= Classes);
        var input = stackalloc float[InputLength];
        var conv1 = stackalloc float[(3 * Conv1Plane) + 4];
        var features = stackalloc float[Features];
        new Span<float>(input, InputLength).Clear();
        for (var row = 0; row < ImageSide; row++)
        {
            image.Slice(row * ImageSide, ImageSide).CopyTo(new Span<float>(input + (row * InputStride), ImageSide));
        }

        fixed (float* w1 = conv1Weight, b1 = conv1Bias, w2 = conv2Weight, b2 = conv2Bias, w3 = linearWeight, b3 = linearBias)
        {
            Conv1(input, w1, b1, conv1);
            Conv2(conv1, w2, b2, features);
            fixed (float* z = logits)
            {
                Linear(features, w3, b3, z);
            }
        }
    }

    private static void Conv1(float* input, float* weight, float* bias, float* output)
    {
        for (var channel = 0; channel < 3; channel++)
        {
            var k = weight + (channel * 9);
            Vector128<float> k0 = Vector128.Create(k[0]), k1 = Vector128.Create(k[1]), k2 = Vector128.Create(k[2]);
            Vector128<float> k3 = Vector128.Create(k[3]), k4 = Vector128.Create(k[4]), k5 = Vector128.Create(k[5]);
            Vector128<float> k6 = Vector128.Create(k[6]), k7 = Vector128.Create(k[7]), k8 = Vector128.Create(k[8]);
            var b = Vector128.Create(bias[channel]);
            var to = output + (channel * Conv1Plane);
            for (var y = 0; y < Conv1Side; y++)
            {
                var from = input + (y * InputStride);
                for (var x = 0; x < Conv1Stride; x += 4, from += 4, to += 4)
                {
                    var s = b + (Load(from) * k0);
                    s += Load(from + 1) * k1;
                    s += Load(from + 2) * k2;
                    s += Load(from + InputStride) * k3;
                    s += Load(from + InputStride + 1) * k4;
                    s += Load(from + InputStride + 2) * k5;
                    s += Load(from + (2 * InputStride)) * k6;
                    s += Load(from + (2 * InputStride) + 1) * k7;
                    s += Load(from + (2 * InputStride) + 2) * k8;
                    Store(Sigmoid(s), to);
                }
            }
        }
    }

    // One output channel at a time, its 27 weights held as broadcast vectors: the interpreter keeps every local in
    // its frame, so a weight read from a local costs nothing more, while one read from memory costs an instruction.
    private static void Conv2(float* input, float* weight, float* bias, float* output)
    {
        for (var o = 0; o < 6; o++)
        {
            var k = weight + (o * 27);
            Vector128<float> a0 = Vector128.Create(k[0]), a1 = Vector128.Create(k[1]), a2 = Vector128.Create(k[2]);
            Vector128<float> a3 = Vector128.Create(k[3]), a4 = Vector128.Create(k[4]), a5 = Vector128.Create(k[5]);
            Vector128<float> a6 = Vector128.Create(k[6]), a7 = Vector128.Create(k[7]), a8 = Vector128.Create(k[8]);
            Vector128<float> b0 = Vector128.Create(k[9]), b1 = Vector128.Create(k[10]), b2 = Vector128.Create(k[11]);
            Vector128<float> b3 = Vector128.Create(k[12]), b4 = Vector128.Create(k[13]), b5 = Vector128.Create(k[14]);
            Vector128<float> b6 = Vector128.Create(k[15]), b7 = Vector128.Create(k[16]), b8 = Vector128.Create(k[17]);
            Vector128<float> c0 = Vector128.Create(k[18]), c1 = Vector128.Create(k[19]), c2 = Vector128.Create(k[20]);
            Vector128<float> c3 = Vector128.Create(k[21]), c4 = Vector128.Create(k[22]), c5 = Vector128.Create(k[23]);
            Vector128<float> c6 = Vector128.Create(k[24]), c7 = Vector128.Create(k[25]), c8 = Vector128.Create(k[26]);
            var start = Vector128.Create(bias[o]);
            var to = output + (o * Conv2Plane);
            for (var y = 0; y < Conv2Side; y++)
            {
                var p = input + (y * Conv1Stride);
                for (var x = 0; x < Conv2Side; x += 4, p += 4, to += 4)
                {
                    var s = start + (Load(p) * a0);
                    s += Load(p + 1) * a1;
                    s += Load(p + 2) * a2;
                    s += Load(p + Conv1Stride) * a3;
                    s += Load(p + Conv1Stride + 1) * a4;
                    s += Load(p + Conv1Stride + 2) * a5;
                    s += Load(p + (2 * Conv1Stride)) * a6;
                    s += Load(p + (2 * Conv1Stride) + 1) * a7;
                    s += Load(p + (2 * Conv1Stride) + 2) * a8;
                    var q = p + Conv1Plane;
                    s += Load(q) * b0;
                    s += Load(q + 1) * b1;
                    s += Load(q + 2) * b2;
                    s += Load(q + Conv1Stride) * b3;
                    s += Load(q + Conv1Stride + 1) * b4;
                    s += Load(q + Conv1Stride + 2) * b5;
                    s += Load(q + (2 * Conv1Stride)) * b6;
                    s += Load(q + (2 * Conv1Stride) + 1) * b7;
                    s += Load(q + (2 * Conv1Stride) + 2) * b8;
                    q += Conv1Plane;
                    s += Load(q) * c0;
                    s += Load(q + 1) * c1;
                    s += Load(q + 2) * c2;
                    s += Load(q + Conv1Stride) * c3;
                    s += Load(q + Conv1Stride + 1) * c4;
                    s += Load(q + Conv1Stride + 2) * c5;
                    s += Load(q + (2 * Conv1Stride)) * c6;
                    s += Load(q + (2 * Conv1Stride) + 1) * c7;
                    s += Load(q + (2 * Conv1Stride) + 2) * c8;
                    Store(Sigmoid(s), to);
                }
            }
        }
    }

    // The 256-bit kernel's four eight-lane sums (each lane summing every 32nd product in order) as eight vectors.
    [SkipLocalsInit]
    private static void Linear(float* features, float* weight, float* bias, float* logits)
    {
        var lanes = stackalloc float[8];
        for (var j = 0; j < Classes; j++)
        {
            var w = weight + (j * Features);
            var x = features;
            Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            for (var i = 0; i < Features; i += 32, w += 32, x += 32)
            {
                s0 += Load(w) * Load(x);
                s1 += Load(w + 4) * Load(x + 4);
                s2 += Load(w + 8) * Load(x + 8);
                s3 += Load(w + 12) * Load(x + 12);
                s4 += Load(w + 16) * Load(x + 16);
                s5 += Load(w + 20) * Load(x + 20);
                s6 += Load(w + 24) * Load(x + 24);
                s7 += Load(w + 28) * Load(x + 28);
            }

            // Sums 0 to 3 of the 256-bit kernel are (s0, s1) ... (s6, s7); it adds (0 + 1) + (2 + 3), then the lanes.
            Store((s0 + s2) + (s4 + s6), lanes);
            Store((s1 + s3) + (s5 + s7), lanes + 4);
            logits[j] = (((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))) + bias[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Load(float* source) => *(Vector128<float>*)source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector128<float> value, float* destination) => *(Vector128<float>*)destination = value;

    /// <summary><c>1 / (1 + e^-x)</c> with <see cref="CaseStudyLanes.Exp{TOps, TVector}"/>'s steps, each multiply-add a multiply then an add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sigmoid(Vector128<float> x)
    {
        var one = Vector128.Create(1f);
        var e = Min(Max(Vector128<float>.Zero - x, Vector128.Create(-87f)), Vector128.Create(88.5f));
        var n = Floor((e * Vector128.Create(1.44269504088896341f)) + Vector128.Create(0.5f));
        var r = (n * Vector128.Create(-0.693359375f)) + e;
        r = (n * Vector128.Create(2.12194440e-4f)) + r;
        var p = (Vector128.Create(1.9875691500e-4f) * r) + Vector128.Create(1.3981999507e-3f);
        p = (p * r) + Vector128.Create(8.3334519073e-3f);
        p = (p * r) + Vector128.Create(4.1665795894e-2f);
        p = (p * r) + Vector128.Create(1.6666665459e-1f);
        p = (p * r) + Vector128.Create(5.0000001201e-1f);
        p = ((p * (r * r)) + r) + one;
        var scale = Vector128.ShiftLeft(ToInt32(n) + Vector128.Create(127), 23).AsSingle();
        return one / (one + (p * scale));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Min(Vector128<float> left, Vector128<float> right) =>
        PackedSimd.IsSupported ? PackedSimd.Min(left, right) : Vector128.Min(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Max(Vector128<float> left, Vector128<float> right) =>
        PackedSimd.IsSupported ? PackedSimd.Max(left, right) : Vector128.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Floor(Vector128<float> value) =>
        PackedSimd.IsSupported ? PackedSimd.Floor(value) : Vector128.Floor(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> ToInt32(Vector128<float> value) =>
        PackedSimd.IsSupported ? PackedSimd.ConvertToInt32Saturate(value) : Vector128.ConvertToInt32(value);
}
