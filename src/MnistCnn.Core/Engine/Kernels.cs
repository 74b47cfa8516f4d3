using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MnistCnn.Core.Engine;

/// <summary>The generic layers' elementwise work: im2col and col2im, biases, activations and their gradients, 2x2 max-pooling.</summary>
internal static class Kernels
{
    /// <summary>
    /// Unfolds a <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/> input for a
    /// k x k convolution: row <c>(c k + ky) k + kx</c>, column <c>y Wo + x</c> holds <c>input[c, y + ky, x + kx]</c>.
    /// Rows start every <paramref name="stride"/> floats (at least the positions <c>Wo Ho</c>; 0 means exactly that),
    /// and the columns past the positions are zero.
    /// </summary>
    public static void Im2Col(ReadOnlySpan<float> input, int channels, int height, int width, int kernel, Span<float> columns, int stride = 0)
    {
        var (outHeight, outWidth) = (height - kernel + 1, width - kernel + 1);
        var positions = outHeight * outWidth;
        stride = Math.Max(stride, positions);
        var row = 0;
        for (var c = 0; c < channels; c++)
        {
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++, row++)
                {
                    var destination = columns.Slice(row * stride, stride);
                    for (var y = 0; y < outHeight; y++)
                    {
                        input.Slice((((c * height) + y + ky) * width) + kx, outWidth).CopyTo(destination.Slice(y * outWidth, outWidth));
                    }

                    destination[positions..].Clear();
                }
            }
        }
    }

    /// <summary>
    /// Folds column gradients back onto the input (the adjoint of <see cref="Im2Col"/>), in row order; overwrites
    /// <paramref name="input"/>. Rows start every <paramref name="stride"/> floats (0: the positions); columns past the positions are not read.
    /// </summary>
    public static void Col2Im(ReadOnlySpan<float> columns, int channels, int height, int width, int kernel, Span<float> input, int stride = 0)
    {
        var (outHeight, outWidth) = (height - kernel + 1, width - kernel + 1);
        var positions = outHeight * outWidth;
        stride = Math.Max(stride, positions);
        input[..(channels * height * width)].Clear();
        var row = 0;
        for (var c = 0; c < channels; c++)
        {
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++, row++)
                {
                    var source = columns.Slice(row * stride, positions);
                    for (var y = 0; y < outHeight; y++)
                    {
                        Add(input.Slice((((c * height) + y + ky) * width) + kx, outWidth), source.Slice(y * outWidth, outWidth));
                    }
                }
            }
        }
    }

    /// <summary><c>destination += source</c> elementwise.</summary>
    public static void Add(Span<float> destination, ReadOnlySpan<float> source)
    {
        var i = 0;
        for (; i + Vector<float>.Count <= destination.Length; i += Vector<float>.Count)
        {
            (new Vector<float>(destination[i..]) + new Vector<float>(source[i..])).CopyTo(destination[i..]);
        }

        for (; i < destination.Length; i++)
        {
            destination[i] += source[i];
        }
    }

    /// <summary>Adds <c>bias[j]</c> to element j of every row of <paramref name="rows"/> (rows of <c>bias.Length</c>).</summary>
    public static void AddBias(Span<float> rows, ReadOnlySpan<float> bias)
    {
        for (var start = 0; start < rows.Length; start += bias.Length)
        {
            Add(rows.Slice(start, bias.Length), bias);
        }
    }

    /// <summary>Adds <c>bias[c]</c> to every element of plane c of <paramref name="planes"/> (planes of <paramref name="plane"/> floats).</summary>
    public static void AddPlaneBias(Span<float> planes, ReadOnlySpan<float> bias, int plane)
    {
        for (var c = 0; c < bias.Length; c++)
        {
            var values = planes.Slice(c * plane, plane);
            var b = bias[c];
            var i = 0;
            for (var vb = new Vector<float>(b); i + Vector<float>.Count <= values.Length; i += Vector<float>.Count)
            {
                (new Vector<float>(values[i..]) + vb).CopyTo(values[i..]);
            }

            for (; i < values.Length; i++)
            {
                values[i] += b;
            }
        }
    }

    /// <summary>An activation in place.</summary>
    public static void Activate(LayerKind kind, Span<float> values)
    {
        if (kind == LayerKind.ReLU)
        {
            // torch's relu keeps NaN (x > 0 is false for NaN, so the comparison below would zero it).
            var i = 0;
            for (; i + Vector<float>.Count <= values.Length; i += Vector<float>.Count)
            {
                var x = new Vector<float>(values[i..]);
                var keep = Vector.GreaterThan(x, Vector<float>.Zero) | ~Vector.Equals(x, x);
                Vector.ConditionalSelect(keep, x, Vector<float>.Zero).CopyTo(values[i..]);
            }

            for (; i < values.Length; i++)
            {
                var x = values[i];
                values[i] = x > 0f || float.IsNaN(x) ? x : 0f;
            }
        }
        else if (kind == LayerKind.Sigmoid)
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = 1f / (1f + MathF.Exp(-values[i]));
            }
        }
    }

    /// <summary>An activation's gradient in place: <paramref name="gradient"/> times the derivative, read from the outputs.</summary>
    public static void ActivationGradient(LayerKind kind, ReadOnlySpan<float> outputs, Span<float> gradient)
    {
        if (kind == LayerKind.ReLU)
        {
            // PyTorch's threshold_backward: the gradient passes where the output is above 0.
            var i = 0;
            for (; i + Vector<float>.Count <= gradient.Length; i += Vector<float>.Count)
            {
                var keep = Vector.GreaterThan(new Vector<float>(outputs[i..]), Vector<float>.Zero);
                Vector.ConditionalSelect(keep, new Vector<float>(gradient[i..]), Vector<float>.Zero).CopyTo(gradient[i..]);
            }

            for (; i < gradient.Length; i++)
            {
                gradient[i] = outputs[i] > 0f ? gradient[i] : 0f;
            }
        }
        else if (kind == LayerKind.Sigmoid)
        {
            // PyTorch's sigmoid backward: grad * (1 - y) * y.
            for (var i = 0; i < gradient.Length; i++)
            {
                gradient[i] = gradient[i] * (1f - outputs[i]) * outputs[i];
            }
        }
    }

    /// <summary>
    /// 2x2 max-pooling, stride 2, of <paramref name="channels"/> planes; writes each output's source index (within
    /// the input) to <paramref name="indices"/>. The first maximum of a window wins, and NaN wins, as in torch.
    /// </summary>
    public static void MaxPool(ReadOnlySpan<float> input, int channels, int height, int width, Span<float> output, Span<int> indices)
    {
        var (outHeight, outWidth) = (height / 2, width / 2);
        var o = 0;
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < outHeight; y++)
            {
                var top = (((c * height) + (2 * y)) * width);
                var x = 0;
                if (Sse.IsSupported && input.Length >= channels * height * width)
                {
                    // Four windows at a time, branch-free (the comparisons of the scalar loop below, lane by lane);
                    // their 8 columns of both rows lie inside the plane.
                    for (; x + 4 <= outWidth; x += 4, o += 4)
                    {
                        MaxPool4(input, top + (2 * x), width, output.Slice(o, 4), indices.Slice(o, 4));
                    }
                }

                for (; x < outWidth; x++, o++)
                {
                    var at = top + (2 * x);
                    var best = at;
                    Consider(input, at + 1, ref best);
                    Consider(input, at + width, ref best);
                    Consider(input, at + width + 1, ref best);
                    output[o] = input[best];
                    indices[o] = best;
                }
            }
        }
    }

    /// <summary>The gradient of <see cref="MaxPool"/>: each output's gradient goes to its source; everything else is zero.</summary>
    public static void MaxPoolGradient(ReadOnlySpan<float> outputGradient, ReadOnlySpan<int> indices, Span<float> inputGradient)
    {
        inputGradient.Clear();
        for (var o = 0; o < outputGradient.Length; o++)
        {
            inputGradient[indices[o]] += outputGradient[o];
        }
    }

    /// <summary>Sums each row of <paramref name="rows"/> (rows of <paramref name="length"/>) in order into <paramref name="sums"/>.</summary>
    public static void RowSums(ReadOnlySpan<float> rows, int length, Span<float> sums)
    {
        for (var r = 0; r < sums.Length; r++)
        {
            var sum = 0f;
            foreach (var v in rows.Slice(r * length, length))
            {
                sum += v;
            }

            sums[r] = sum;
        }
    }

    /// <summary>Four 2x2 windows side by side from <paramref name="at"/>: the same choices as <see cref="Consider"/> in the same order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxPool4(ReadOnlySpan<float> input, int at, int width, Span<float> output, Span<int> indices)
    {
        ref var start = ref MemoryMarshal.GetReference(input);
        var evens = Vector128.Create(at, at + 2, at + 4, at + 6);
        var (top0, top1) = (Vector128.LoadUnsafe(ref start, (nuint)at), Vector128.LoadUnsafe(ref start, (nuint)(at + 4)));
        var (bottom0, bottom1) = (Vector128.LoadUnsafe(ref start, (nuint)(at + width)), Vector128.LoadUnsafe(ref start, (nuint)(at + width + 4)));
        var best = Sse.Shuffle(top0, top1, 0b10_00_10_00);
        var index = evens;
        Consider4(Sse.Shuffle(top0, top1, 0b11_01_11_01), evens + Vector128.Create(1), ref best, ref index);
        Consider4(Sse.Shuffle(bottom0, bottom1, 0b10_00_10_00), evens + Vector128.Create(width), ref best, ref index);
        Consider4(Sse.Shuffle(bottom0, bottom1, 0b11_01_11_01), evens + Vector128.Create(width + 1), ref best, ref index);
        best.CopyTo(output);
        index.CopyTo(indices);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Consider4(Vector128<float> values, Vector128<int> at, ref Vector128<float> best, ref Vector128<int> index)
    {
        var take = Vector128.GreaterThan(values, best) | ~Vector128.Equals(values, values);
        best = Vector128.ConditionalSelect(take, values, best);
        index = Vector128.ConditionalSelect(take.AsInt32(), at, index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Consider(ReadOnlySpan<float> input, int at, ref int best)
    {
        var v = input[at];
        if (v > input[best] || float.IsNaN(v))
        {
            best = at;
        }
    }
}
