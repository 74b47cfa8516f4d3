using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MnistCnn.Core.Models;

namespace MnistCnn.Core.Inference;

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
/// (conv2) taps in a register, then goes through the sigmoid once.
/// </para>
/// <para>
/// Scratch space lives on the caller's stack (about 27 KB), so a forward pass allocates nothing and
/// threads never share state.
/// </para>
/// </remarks>
internal static class ConvNetForward
{
    /// <summary>Floats per input row (28 used).</summary>
    public const int InputStride = 32;

    /// <summary>
    /// Floats of the padded input: 28 rows plus 8 floats, because the last conv1 row reads two columns
    /// past the 32nd of row 27.
    /// </summary>
    public const int InputLength = (ConvNet.ImageSize * InputStride) + 8;

    private const int Conv1Size = 26;
    private const int Conv1Stride = 32;
    private const int Conv1Plane = Conv1Size * Conv1Stride;
    private const int Conv2Size = 24;
    private const int Conv2Plane = Conv2Size * Conv2Size;
    private const int Lanes = 8;

    /// <summary>Fills a padded input buffer (zeroed by the caller) from 784 MNIST pixel bytes, as <c>p / 255f</c>.</summary>
    public static void LoadPixels(ReadOnlySpan<byte> pixels, Span<float> input)
    {
        Debug.Assert(pixels.Length == ConvNet.ImageSize * ConvNet.ImageSize && input.Length >= InputLength);
        for (var row = 0; row < ConvNet.ImageSize; row++)
        {
            var source = pixels.Slice(row * ConvNet.ImageSize, ConvNet.ImageSize);
            var destination = input.Slice(row * InputStride, ConvNet.ImageSize);
            for (var column = 0; column < source.Length; column++)
            {
                // True division, as torch's ToTensor and the library's PixelScaler: equal bit for bit.
                destination[column] = source[column] / 255f;
            }
        }
    }

    /// <summary>Fills a padded input buffer (zeroed by the caller) from 784 prepared floats.</summary>
    public static void LoadImage(ReadOnlySpan<float> image, Span<float> input)
    {
        Debug.Assert(image.Length == ConvNet.ImageSize * ConvNet.ImageSize && input.Length >= InputLength);
        for (var row = 0; row < ConvNet.ImageSize; row++)
        {
            image.Slice(row * ConvNet.ImageSize, ConvNet.ImageSize).CopyTo(input.Slice(row * InputStride));
        }
    }

    /// <summary>Computes the ten logits of one padded input image.</summary>
    [SkipLocalsInit]
    public static void Logits(ConvNetWeights weights, ReadOnlySpan<float> input, Span<float> logits)
    {
        if (input.Length < InputLength || logits.Length < ConvNet.ClassCount)
        {
            throw new ArgumentException("The input or logits buffer is too short.");
        }

        // conv1's padding lanes are written (with garbage from the padding) but never read, and every
        // feature is written before it is read, so neither buffer needs zeroing.
        Span<float> conv1 = stackalloc float[ConvNetWeights.Conv1Channels * Conv1Plane];
        Span<float> features = stackalloc float[ConvNetWeights.Features];
        Conv1(weights, input, conv1);
        Conv2(weights, conv1, features);
        Linear(weights, features, logits);
    }

    private static void Conv1(ConvNetWeights weights, ReadOnlySpan<float> input, Span<float> output)
    {
        ref var source = ref MemoryMarshal.GetReference(input);
        ref var destination = ref MemoryMarshal.GetReference(output);
        ref var w = ref MemoryMarshal.GetArrayDataReference(weights.Conv1Weight);
        for (var channel = 0; channel < ConvNetWeights.Conv1Channels; channel++)
        {
            ref var k = ref Unsafe.Add(ref w, channel * 9);
            var bias = Vector256.Create(weights.Conv1Bias[channel]);
            for (var y = 0; y < Conv1Size; y++)
            {
                for (var x = 0; x < Conv1Stride; x += Lanes)
                {
                    var sum = bias;
                    for (var ky = 0; ky < 3; ky++)
                    {
                        var at = (nuint)(((y + ky) * InputStride) + x);
                        sum = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at), Vector256.Create(Unsafe.Add(ref k, (ky * 3) + 0)), sum);
                        sum = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at + 1), Vector256.Create(Unsafe.Add(ref k, (ky * 3) + 1)), sum);
                        sum = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at + 2), Vector256.Create(Unsafe.Add(ref k, (ky * 3) + 2)), sum);
                    }

                    Sigmoid(sum).StoreUnsafe(ref destination, (nuint)((channel * Conv1Plane) + (y * Conv1Stride) + x));
                }
            }
        }
    }

    private static void Conv2(ConvNetWeights weights, ReadOnlySpan<float> input, Span<float> output)
    {
        ref var source = ref MemoryMarshal.GetReference(input);
        ref var destination = ref MemoryMarshal.GetReference(output);
        ref var w = ref MemoryMarshal.GetArrayDataReference(weights.Conv2Weight);
        for (var channel = 0; channel < ConvNetWeights.Conv2Channels; channel++)
        {
            var bias = Vector256.Create(weights.Conv2Bias[channel]);
            for (var y = 0; y < Conv2Size; y++)
            {
                Vector256<float> a = bias, b = bias, c = bias;
                for (var inChannel = 0; inChannel < ConvNetWeights.Conv1Channels; inChannel++)
                {
                    ref var k = ref Unsafe.Add(ref w, ((channel * ConvNetWeights.Conv1Channels) + inChannel) * 9);
                    for (var ky = 0; ky < 3; ky++)
                    {
                        var row = (nuint)((inChannel * Conv1Plane) + ((y + ky) * Conv1Stride));
                        for (var kx = 0; kx < 3; kx++)
                        {
                            var tap = Vector256.Create(Unsafe.Add(ref k, (ky * 3) + kx));
                            var at = row + (nuint)kx;
                            a = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at), tap, a);
                            b = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at + Lanes), tap, b);
                            c = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref source, at + (2 * Lanes)), tap, c);
                        }
                    }
                }

                var to = (nuint)((channel * Conv2Plane) + (y * Conv2Size));
                Sigmoid(a).StoreUnsafe(ref destination, to);
                Sigmoid(b).StoreUnsafe(ref destination, to + Lanes);
                Sigmoid(c).StoreUnsafe(ref destination, to + (2 * Lanes));
            }
        }
    }

    private static void Linear(ConvNetWeights weights, ReadOnlySpan<float> features, Span<float> logits)
    {
        ref var x = ref MemoryMarshal.GetReference(features);
        ref var w = ref MemoryMarshal.GetArrayDataReference(weights.LinearWeight);
        for (var j = 0; j < ConvNet.ClassCount; j++)
        {
            ref var row = ref Unsafe.Add(ref w, j * ConvNetWeights.Features);

            // Four independent sums hide the latency of the multiply-adds; 3456 = 108 x 32.
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (nuint i = 0; i < ConvNetWeights.Features; i += 4 * Lanes)
            {
                s0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i), Vector256.LoadUnsafe(ref x, i), s0);
                s1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i + Lanes), Vector256.LoadUnsafe(ref x, i + Lanes), s1);
                s2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i + (2 * Lanes)), Vector256.LoadUnsafe(ref x, i + (2 * Lanes)), s2);
                s3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i + (3 * Lanes)), Vector256.LoadUnsafe(ref x, i + (3 * Lanes)), s3);
            }

            logits[j] = Vector256.Sum((s0 + s1) + (s2 + s3)) + weights.LinearBias[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> x) =>
        Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));
}
