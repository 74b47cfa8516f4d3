namespace MnistCnn.Core.Engine;

/// <summary>
/// The convolutional part of a network (the layers before the flatten) on one image: where each activation
/// lives in the image's buffer, and the forward and backward passes over it.
/// </summary>
/// <remarks>
/// The image's buffer starts with the image; every convolution and pool writes a new region, and activations
/// work in place on their input's region, so the buffer holds exactly what the backward pass reads.
/// </remarks>
internal sealed class ConvPlan
{
    private readonly NetworkDescription _description;
    private readonly int[] _input;
    private readonly int[] _output;
    private readonly int[] _indices;

    public ConvPlan(NetworkDescription description)
    {
        _description = description;
        var count = description.FlattenIndex;
        (_input, _output, _indices) = (new int[count + 1], new int[count], new int[count]);
        var floats = NetworkDescription.ImagePixels;
        var largest = floats;
        for (var i = 0; i < count; i++)
        {
            var layer = description.Layers[i];
            var (c, h, w) = description.Shapes[i + 1];
            var size = c * h * w;
            largest = Math.Max(largest, size);
            _indices[i] = ImageIndices;
            if (layer.Kind is LayerKind.Conv2d or LayerKind.MaxPool2d)
            {
                _output[i] = floats;
                floats += size;
                if (layer.Kind == LayerKind.MaxPool2d)
                {
                    ImageIndices += size;
                }
                else
                {
                    var (inputs, _, _) = description.Shapes[i];
                    var stride = Stride(h * w);
                    var depth = inputs * layer.Kernel * layer.Kernel;

                    // The columns (with rows up to a whole vector for the weight gradient), then (forward) the padded
                    // product or (backward) the padded output gradient; the column gradient also holds the padded weight gradient.
                    ColumnFloats = Math.Max(ColumnFloats, Math.Max((Stride(depth) + c) * stride, c * Stride(depth)));
                }
            }
            else
            {
                _output[i] = _input[i];
            }

            _input[i + 1] = _output[i];
        }

        FeaturesAt = _input[count];
        ImageFloats = floats;
        GradientFloats = largest;
        ConvGradientFloats = description.Parameters.Where(p => p.Layer < count).Sum(p => p.Length);
    }

    /// <summary>Floats of an image's buffer.</summary>
    public int ImageFloats { get; }

    /// <summary>Ints of an image's max-pool source indices.</summary>
    public int ImageIndices { get; }

    /// <summary>Where the flattened features start in an image's buffer.</summary>
    public int FeaturesAt { get; }

    /// <summary>Floats of the largest im2col matrix and its product's rows, both with padded rows (at least 1).</summary>
    public int ColumnFloats { get; } = 1;

    /// <summary>Floats of the largest activation (the size of a gradient buffer).</summary>
    public int GradientFloats { get; }

    /// <summary>Floats of the convolutional layers' parameters: they come first in the description's order.</summary>
    public int ConvGradientFloats { get; }

    /// <summary>Runs the convolutional part on the image at the start of <paramref name="buffer"/>.</summary>
    public void Forward(ParameterView parameters, Span<float> buffer, Span<int> indices, Span<float> columns)
    {
        for (var i = 0; i < _output.Length; i++)
        {
            var layer = _description.Layers[i];
            var (c, h, w) = _description.Shapes[i];
            var (outChannels, outHeight, outWidth) = _description.Shapes[i + 1];
            var outSize = outChannels * outHeight * outWidth;
            var input = buffer.Slice(_input[i], c * h * w);
            var output = buffer.Slice(_output[i], outSize);
            var started = StepProfiler.Start();
            switch (layer.Kind)
            {
                case LayerKind.Conv2d:
                    var positions = outHeight * outWidth;
                    var depth = c * layer.Kernel * layer.Kernel;
                    var stride = Stride(positions);
                    Kernels.Im2Col(input, c, h, w, layer.Kernel, columns, stride);
                    if (stride == positions)
                    {
                        Gemm.Multiply(outChannels, positions, depth, parameters.Weight(i), depth, columns, positions, output, positions, accumulate: false);
                    }
                    else
                    {
                        // Whole vectors of columns (the padding's products are dropped): each element's sum is the same.
                        var product = columns.Slice(depth * stride, outChannels * stride);
                        Gemm.Multiply(outChannels, stride, depth, parameters.Weight(i), depth, columns, stride, product, stride, accumulate: false);
                        for (var o = 0; o < outChannels; o++)
                        {
                            product.Slice(o * stride, positions).CopyTo(output.Slice(o * positions, positions));
                        }
                    }

                    Kernels.AddPlaneBias(output, parameters.Bias(i), positions);
                    break;
                case LayerKind.MaxPool2d:
                    Kernels.MaxPool(input, c, h, w, output, indices.Slice(_indices[i], outSize));
                    break;
                default:
                    Kernels.Activate(layer.Kind, output);
                    break;
            }

            StepProfiler.Stop(StepPart.Forward, i, started);
        }
    }

    /// <summary>
    /// The backward pass of the convolutional part for one image, from the gradient of its features
    /// (<paramref name="gradient"/> and <paramref name="spare"/>: <see cref="GradientFloats"/> each, the first
    /// holding the features' gradient; both are overwritten). Writes the image's parameter gradients to
    /// <paramref name="parameterGradients"/> (<see cref="ConvGradientFloats"/>, in the description's layout).
    /// </summary>
    public void Backward(
        ParameterView parameters, ReadOnlySpan<float> buffer, ReadOnlySpan<int> indices, Span<float> gradient, Span<float> spare,
        Span<float> columns, Span<float> columnGradient, Span<float> parameterGradients)
    {
        for (var i = _output.Length - 1; i >= 0; i--)
        {
            var layer = _description.Layers[i];
            var (c, h, w) = _description.Shapes[i];
            var (outChannels, outHeight, outWidth) = _description.Shapes[i + 1];
            var outSize = outChannels * outHeight * outWidth;
            var outputGradient = gradient[..outSize];
            var started = StepProfiler.Start();
            switch (layer.Kind)
            {
                case LayerKind.Conv2d:
                    var positions = outHeight * outWidth;
                    var depth = c * layer.Kernel * layer.Kernel;
                    var weight = _description.Parameters.First(p => p.Layer == i);
                    var stride = Stride(positions);
                    var paddedDepth = Stride(depth);
                    Kernels.Im2Col(buffer.Slice(_input[i], c * h * w), c, h, w, layer.Kernel, columns, stride);
                    var weightGradient = parameterGradients.Slice(weight.Offset, weight.Length);
                    if (paddedDepth == depth)
                    {
                        Gemm.MultiplyTransposedB(outChannels, depth, positions, outputGradient, positions, columns, stride, weightGradient, depth,
                            accumulate: false);
                    }
                    else
                    {
                        // Whole vectors of the weight gradient's columns (zero rows of columns, dropped after): the same sums.
                        columns.Slice(depth * stride, (paddedDepth - depth) * stride).Clear();
                        var product = columnGradient[..(outChannels * paddedDepth)];
                        Gemm.MultiplyTransposedB(outChannels, paddedDepth, positions, outputGradient, positions, columns, stride, product,
                            paddedDepth, accumulate: false);
                        for (var o = 0; o < outChannels; o++)
                        {
                            product.Slice(o * paddedDepth, depth).CopyTo(weightGradient.Slice(o * depth, depth));
                        }
                    }

                    Kernels.RowSums(outputGradient, positions, parameterGradients.Slice(weight.Offset + weight.Length, outChannels));
                    started = StepProfiler.Stop(StepPart.WeightGradient, i, started);
                    if (i == 0)
                    {
                        return; // the images need no gradient
                    }

                    if (stride == positions)
                    {
                        Gemm.MultiplyTransposedA(depth, positions, outChannels, parameters.Weight(i), depth, outputGradient, positions,
                            columnGradient, positions, accumulate: false);
                    }
                    else
                    {
                        // The output gradient with zero-padded rows (the columns are free again): whole vectors of columns.
                        var padded = columns[..(outChannels * stride)];
                        for (var o = 0; o < outChannels; o++)
                        {
                            outputGradient.Slice(o * positions, positions).CopyTo(padded.Slice(o * stride, positions));
                            padded.Slice((o * stride) + positions, stride - positions).Clear();
                        }

                        Gemm.MultiplyTransposedA(depth, stride, outChannels, parameters.Weight(i), depth, padded, stride, columnGradient, stride,
                            accumulate: false);
                    }

                    started = StepProfiler.Stop(StepPart.InputGradient, i, started);
                    Kernels.Col2Im(columnGradient, c, h, w, layer.Kernel, spare, stride);
                    StepProfiler.Stop(StepPart.Col2Im, i, started);
                    Swap(ref gradient, ref spare);
                    break;
                case LayerKind.MaxPool2d:
                    Kernels.MaxPoolGradient(outputGradient, indices.Slice(_indices[i], outSize), spare[..(c * h * w)]);
                    StepProfiler.Stop(StepPart.Backward, i, started);
                    Swap(ref gradient, ref spare);
                    break;
                case LayerKind.Flatten:
                    break;
                default:
                    Kernels.ActivationGradient(layer.Kind, buffer.Slice(_output[i], outSize), outputGradient);
                    StepProfiler.Stop(StepPart.Backward, i, started);
                    break;
            }
        }
    }

    /// <summary>
    /// A padded row length for a convolution's products: rounded up to whole 16-float vectors when it is not already,
    /// so no product falls to scalar edge columns (SpeedrunNet's conv2 has 100 positions, a 5x5 kernel 25 weights).
    /// </summary>
    private static int Stride(int positions) => positions % 16 == 0 ? positions : (positions + 15) / 16 * 16;

    private static void Swap(ref Span<float> one, ref Span<float> two)
    {
        var first = one;
        one = two;
        two = first;
    }
}
