using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// Prediction through the generic layers (<see cref="LayerPasses"/>): the convolutional part per image, then the
/// dense part once for up to <see cref="ImagesPerPass"/> images, each linear layer one product <c>X·Wᵀ</c> that
/// reads the weights once for all of them.
/// </summary>
/// <remarks>
/// <para>
/// A convolution followed by a 2x2 max-pool (with a ReLU before or after it, or none) is one step: its im2col
/// matrix lists the output positions by place in the pooling window first (four blocks, one per window corner,
/// each in the pooled output's row-major order, copied as runs from the input's four even/odd row and column
/// planes), so the pool is the elementwise maximum of four contiguous blocks; the bias and the ReLU follow on a
/// quarter of the elements. That gives the layers' values exactly: adding the same bias to each element and
/// rounding keep their order, and ReLU commutes with the maximum.
/// </para>
/// <para>
/// The linear layers' weights are kept transposed (inputs x outputs), so every product is <see cref="Gemm.Multiply"/>,
/// whose sums run over the inputs in order whatever the number of rows and the vector width: an image's logits
/// are the same bits alone or in a batch, and at every width (where multiply-adds round alike). For one image
/// that product streams the weights row by row, several vectors of outputs at a time.
/// </para>
/// </remarks>
internal sealed class LayerPredictor : Predictor
{
    /// <summary>Images whose dense part runs as one product.</summary>
    public const int ImagesPerPass = 32;

    /// <summary>
    /// A linear layer's outputs are computed in blocks of this many (its transposed weight padded with zero columns):
    /// the widest tile of <see cref="Gemm"/> (4 vectors of 512 bits) then covers every output, where a partly filled
    /// last block would fall to narrow tiles and scalar code with one long dependent chain of multiply-adds each.
    /// </summary>
    private const int OutputBlock = 64;

    private readonly ParameterView _parameters;
    private readonly Step[] _steps;
    private readonly DenseLayer[] _dense;
    private readonly int _activationFloats;
    private readonly int _columnFloats;
    private readonly int _rawFloats;
    private readonly int _denseWidth;

    public LayerPredictor(NetworkDescription description, ParameterView parameters)
        : base(description)
    {
        _parameters = parameters;
        var layers = description.Layers;
        var steps = new List<Step>();
        var largest = NetworkDescription.ImagePixels;
        for (var i = 0; i < description.FlattenIndex; i++)
        {
            var layer = layers[i];
            var (c, h, w) = description.Shapes[i];
            var (outChannels, outHeight, outWidth) = description.Shapes[i + 1];
            if (layer.Kind == LayerKind.Conv2d)
            {
                var (next, relu, pooled) = description.FusedWithConvolution(i);

                var positions = outHeight * outWidth;
                var depth = c * layer.Kernel * layer.Kernel;
                _columnFloats = Math.Max(_columnFloats, depth * positions);
                _rawFloats = Math.Max(_rawFloats, (outChannels * positions) + (pooled ? c * 4 * ((h + 1) / 2) * ((w + 1) / 2) : 0));
                var direct = pooled ? new PooledConvolution(parameters.Weight(i), c, h, w, layer.Kernel, outChannels) : null;
                if (direct is not null)
                {
                    _columnFloats = Math.Max(_columnFloats, direct.ShiftedFloats);
                    _rawFloats = Math.Max(_rawFloats, direct.ProductFloats);
                }

                steps.Add(new Step(LayerKind.Conv2d, i, c, h, w, layer.Kernel, outChannels, outHeight, outWidth, pooled, relu, direct));
                largest = Math.Max(largest, outChannels * positions);
                i = next - 1;
            }
            else if (layer.Kind == LayerKind.MaxPool2d)
            {
                steps.Add(new Step(LayerKind.MaxPool2d, i, c, h, w, 0, outChannels, outHeight, outWidth, true, false));
                largest = Math.Max(largest, outChannels * outHeight * outWidth);
            }
            else
            {
                steps.Add(new Step(layer.Kind, i, c, h, w, 0, outChannels, outHeight, outWidth, false, false));
            }
        }

        _steps = [.. steps];
        _activationFloats = largest;

        var dense = new List<DenseLayer>();
        _denseWidth = description.Features;
        for (var i = description.FlattenIndex + 1; i < layers.Count; i++)
        {
            var layer = layers[i];
            if (layer.Kind == LayerKind.Linear)
            {
                var relu = i + 1 < layers.Count && layers[i + 1].Kind == LayerKind.ReLU;
                var stride = (layer.Outputs + OutputBlock - 1) / OutputBlock * OutputBlock;
                var transposed = Transpose(parameters.Weight(i), layer.Outputs, layer.Inputs, stride);
                dense.Add(new DenseLayer(i, layer.Inputs, layer.Outputs, stride, transposed, relu, Finite: AllFinite(transposed)));
                _denseWidth = Math.Max(_denseWidth, stride);
                i += relu ? 1 : 0;
            }
            else
            {
                dense.Add(new DenseLayer(i, 0, 0, 0, [], false, layer.Kind));
            }
        }

        _dense = [.. dense];
    }

    /// <inheritdoc/>
    public override void Logits(ReadOnlySpan<float> images, int count, Span<float> logits)
    {
        var imageScratch = (2 * _activationFloats) + _columnFloats + _rawFloats;
        var passImages = Math.Min(count, ImagesPerPass);
        var length = imageScratch + (2 * passImages * _denseWidth);
        // Pooled, not per thread: a server's many pool threads would each keep a scratch array of their own.
        var scratch = ArrayPool<float>.Shared.Rent(length);
        try
        {
            Logits(images, count, logits, scratch, imageScratch, passImages);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private void Logits(ReadOnlySpan<float> images, int count, Span<float> logits, float[] scratch, int imageScratch, int passImages)
    {
        const int pixels = NetworkDescription.ImagePixels;
        var classes = Description.Classes;
        var features = Description.Features;
        for (var start = 0; start < count; start += ImagesPerPass)
        {
            var batch = Math.Min(ImagesPerPass, count - start);
            var rows = scratch.AsSpan(imageScratch, batch * _denseWidth);
            var spare = scratch.AsSpan(imageScratch + (passImages * _denseWidth), batch * _denseWidth);
            for (var n = 0; n < batch; n++)
            {
                var output = ConvolutionalPart(images.Slice((start + n) * pixels, pixels), scratch.AsSpan(0, imageScratch));
                output.CopyTo(rows.Slice(n * features, features));
            }

            var stride = features;
            foreach (var layer in _dense)
            {
                if (layer.Outputs == 0)
                {
                    Kernels.Activate(layer.Activation, rows[..(batch * stride)]);
                    continue;
                }

                var started = StepProfiler.Start();
                if (batch == 1)
                {
                    PredictKernels.DenseRow(rows, layer.Inputs, layer.TransposedWeight, layer.Stride, layer.Stride, spare, layer.Finite);
                }
                else
                {
                    Gemm.Multiply(
                        batch, layer.Stride, layer.Inputs, rows, stride, layer.TransposedWeight, layer.Stride, spare, layer.Stride, accumulate: false);
                }

                started = StepProfiler.Stop(StepPart.PredictProduct, layer.Layer, started);
                BiasActivate(spare[..(batch * layer.Stride)], layer.Stride, _parameters.Bias(layer.Layer), layer.Relu);
                StepProfiler.Stop(StepPart.PredictEpilogue, layer.Layer, started);
                Swap(ref rows, ref spare);
                stride = layer.Stride;
            }

            for (var n = 0; n < batch; n++)
            {
                rows.Slice(n * stride, classes).CopyTo(logits.Slice((start + n) * classes, classes));
            }
        }
    }

    private static void Swap(ref Span<float> one, ref Span<float> two)
    {
        var first = one;
        one = two;
        two = first;
    }

    private static bool AllFinite(float[] values)
    {
        foreach (var value in values)
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The weight's transpose (inputs x <paramref name="stride"/>), each row padded with zeros; <see cref="InterpretedLayerPredictor"/>
    /// stores its linear layers so too.
    /// </summary>
    internal static float[] Transpose(ReadOnlySpan<float> weight, int rows, int columns, int stride)
    {
        var transposed = new float[columns * stride];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                transposed[(c * stride) + r] = weight[(r * columns) + c];
            }
        }

        return transposed;
    }

    // Runs the layers before the flatten on one image; returns its features (a slice of the scratch space).
    private Span<float> ConvolutionalPart(ReadOnlySpan<float> image, Span<float> scratch)
    {
        var input = scratch[.._activationFloats];
        var output = scratch.Slice(_activationFloats, _activationFloats);
        var columns = scratch.Slice(2 * _activationFloats, _columnFloats);
        var raw = scratch.Slice((2 * _activationFloats) + _columnFloats, _rawFloats);
        image.CopyTo(input);
        var size = image.Length;
        foreach (var step in _steps)
        {
            var outSize = step.OutChannels * step.OutHeight * step.OutWidth;
            switch (step.Kind)
            {
                case LayerKind.Conv2d:
                    Convolve(in step, input, columns, raw, output);
                    Swap(ref input, ref output);
                    size = step.Pooled ? outSize / 4 : outSize;
                    break;
                case LayerKind.MaxPool2d:
                    MaxPool(input, step.Channels, step.Height, step.Width, output);
                    Swap(ref input, ref output);
                    size = outSize;
                    break;
                default:
                    Kernels.Activate(step.Kind, input[..size]);
                    break;
            }
        }

        return input[..size];
    }

    private void Convolve(in Step step, ReadOnlySpan<float> input, Span<float> columns, Span<float> raw, Span<float> output)
    {
        var kernel = step.Kernel;
        var depth = step.Channels * kernel * kernel;
        var positions = step.OutHeight * step.OutWidth;
        var weight = _parameters.Weight(step.Layer);
        var bias = _parameters.Bias(step.Layer);
        if (!step.Pooled)
        {
            Kernels.Im2Col(input, step.Channels, step.Height, step.Width, kernel, columns);
            Gemm.Multiply(step.OutChannels, positions, depth, weight, depth, columns, positions, output, positions, accumulate: false);
            BiasPlanes(output[..(step.OutChannels * positions)], bias, positions, step.Relu);
            return;
        }

        var started = StepProfiler.Start();
        if (step.Direct is { Fits: true } direct)
        {
            direct.Shift(input, columns);
            started = StepProfiler.Stop(StepPart.PredictColumns, step.Layer, started);
            direct.Multiply(columns, raw);
            started = StepProfiler.Stop(StepPart.PredictProduct, step.Layer, started);
            PoolBiasActivate(raw, bias, positions / 4, step.Relu, output);
            StepProfiler.Stop(StepPart.PredictEpilogue, step.Layer, started);
            return;
        }

        var phases = raw[(step.OutChannels * positions)..];
        PooledColumns(in step, input, phases, columns);
        started = StepProfiler.Stop(StepPart.PredictColumns, step.Layer, started);
        var convolved = raw[..(step.OutChannels * positions)];
        Gemm.Multiply(step.OutChannels, positions, depth, weight, depth, columns, positions, convolved, positions, accumulate: false);
        started = StepProfiler.Stop(StepPart.PredictProduct, step.Layer, started);
        PoolBiasActivate(convolved, bias, positions / 4, step.Relu, output);
        StepProfiler.Stop(StepPart.PredictEpilogue, step.Layer, started);
    }

    /// <summary>
    /// im2col with the output positions ordered (corner of the pooling window, pooled row, pooled column): column
    /// <c>(2 dy + dx) P + py Wp + px</c> of row <c>(c k + ky) k + kx</c> holds <c>input[c, 2 py + dy + ky, 2 px + dx + kx]</c>.
    /// </summary>
    private static void PooledColumns(in Step step, ReadOnlySpan<float> input, Span<float> phases, Span<float> columns)
    {
        var (channels, height, width, kernel) = (step.Channels, step.Height, step.Width, step.Kernel);
        var (phaseHeight, phaseWidth) = ((height + 1) / 2, (width + 1) / 2);
        var phasePlane = phaseHeight * phaseWidth;
        ref var source = ref MemoryMarshal.GetReference(input);
        ref var phase = ref MemoryMarshal.GetReference(phases);

        // The four planes of each channel: rows of parity a, columns of parity b.
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                ref var row = ref Unsafe.Add(ref source, ((c * height) + y) * width);
                ref var even = ref Unsafe.Add(ref phase, (((((c * 2) + (y & 1)) * 2) + 0) * phasePlane) + ((y >> 1) * phaseWidth));
                ref var odd = ref Unsafe.Add(ref even, phasePlane);
                PredictKernels.SplitColumns(ref row, width, ref even, ref odd);
            }
        }

        var (pooledHeight, pooledWidth) = (step.OutHeight / 2, step.OutWidth / 2);
        var pooled = pooledHeight * pooledWidth;
        var positions = 4 * pooled;
        ref var target = ref MemoryMarshal.GetReference(columns);
        var r = 0;
        for (var c = 0; c < channels; c++)
        {
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++, r++)
                {
                    for (var corner = 0; corner < 4; corner++)
                    {
                        var (dy, dx) = (corner >> 1, corner & 1);
                        var (rows, cols) = (dy + ky, dx + kx);
                        ref var plane = ref Unsafe.Add(ref phase, (((c * 2) + (rows & 1)) * 2 + (cols & 1)) * phasePlane);
                        ref var from = ref Unsafe.Add(ref plane, ((rows >> 1) * phaseWidth) + (cols >> 1));
                        ref var to = ref Unsafe.Add(ref target, (r * positions) + (corner * pooled));
                        for (var py = 0; py < pooledHeight; py++)
                        {
                            PredictKernels.CopyRun(ref Unsafe.Add(ref from, py * phaseWidth), ref Unsafe.Add(ref to, py * pooledWidth), pooledWidth);
                        }
                    }
                }
            }
        }
    }

    private static void PoolBiasActivate(ReadOnlySpan<float> convolved, ReadOnlySpan<float> bias, int pooled, bool relu, Span<float> output)
    {
        switch (VectorWidth.Bits)
        {
            case >= 512:
                PoolBiasActivate<Simd512, Vector512<float>>(convolved, bias, pooled, relu, output);
                break;
            case >= 256:
                PoolBiasActivate<Simd256, Vector256<float>>(convolved, bias, pooled, relu, output);
                break;
            case >= 128:
                PoolBiasActivate<Simd128, Vector128<float>>(convolved, bias, pooled, relu, output);
                break;
            default:
                PoolBiasActivate<SimdScalar, float>(convolved, bias, pooled, relu, output);
                break;
        }
    }

    // output[c, i] = act(max over the four corners of convolved[c, corner, i] + bias[c]).
    private static void PoolBiasActivate<TOps, TVector>(ReadOnlySpan<float> convolved, ReadOnlySpan<float> bias, int pooled, bool relu, Span<float> output)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        var width = TOps.Count;
        ref var source = ref MemoryMarshal.GetReference(convolved);
        ref var target = ref MemoryMarshal.GetReference(output);
        for (var c = 0; c < bias.Length; c++)
        {
            ref var block = ref Unsafe.Add(ref source, c * 4 * pooled);
            ref var to = ref Unsafe.Add(ref target, c * pooled);
            var b = TOps.Broadcast(bias[c]);
            var i = 0;
            for (; i + width <= pooled; i += width)
            {
                var m = TOps.Max(
                    TOps.Max(TOps.Load(ref Unsafe.Add(ref block, i)), TOps.Load(ref Unsafe.Add(ref block, pooled + i))),
                    TOps.Max(TOps.Load(ref Unsafe.Add(ref block, (2 * pooled) + i)), TOps.Load(ref Unsafe.Add(ref block, (3 * pooled) + i))));
                m = TOps.Add(m, b);
                TOps.Store(relu ? TOps.Max(m, TOps.Zero) : m, ref Unsafe.Add(ref to, i));
            }

            for (; i < pooled; i++)
            {
                var m = MathF.Max(
                    MathF.Max(Unsafe.Add(ref block, i), Unsafe.Add(ref block, pooled + i)),
                    MathF.Max(Unsafe.Add(ref block, (2 * pooled) + i), Unsafe.Add(ref block, (3 * pooled) + i))) + bias[c];
                Unsafe.Add(ref to, i) = relu ? MathF.Max(m, 0f) : m;
            }
        }
    }

    // planes[c, i] = act(planes[c, i] + bias[c]).
    private static void BiasPlanes(Span<float> planes, ReadOnlySpan<float> bias, int plane, bool relu)
    {
        for (var c = 0; c < bias.Length; c++)
        {
            var values = planes.Slice(c * plane, plane);
            var b = bias[c];
            for (var i = 0; i < values.Length; i++)
            {
                var x = values[i] + b;
                values[i] = relu ? MathF.Max(x, 0f) : x;
            }
        }
    }

    // rows[n, j] = act(rows[n, j] + bias[j]) for the first bias.Length elements of every row of stride floats.
    private static void BiasActivate(Span<float> rows, int stride, ReadOnlySpan<float> bias, bool relu)
    {
        switch (VectorWidth.Bits)
        {
            case >= 512:
                BiasActivate<Simd512, Vector512<float>>(rows, stride, bias, relu);
                break;
            case >= 256:
                BiasActivate<Simd256, Vector256<float>>(rows, stride, bias, relu);
                break;
            case >= 128:
                BiasActivate<Simd128, Vector128<float>>(rows, stride, bias, relu);
                break;
            default:
                BiasActivate<SimdScalar, float>(rows, stride, bias, relu);
                break;
        }
    }

    private static void BiasActivate<TOps, TVector>(Span<float> rows, int stride, ReadOnlySpan<float> bias, bool relu)
        where TOps : struct, ISimdOps<TVector>
        where TVector : struct
    {
        var width = TOps.Count;
        var length = bias.Length;
        ref var b = ref MemoryMarshal.GetReference(bias);
        for (var start = 0; start < rows.Length; start += stride)
        {
            ref var row = ref Unsafe.Add(ref MemoryMarshal.GetReference(rows), start);
            var j = 0;
            for (; j + width <= length; j += width)
            {
                var x = TOps.Add(TOps.Load(ref Unsafe.Add(ref row, j)), TOps.Load(ref Unsafe.Add(ref b, j)));
                TOps.Store(relu ? TOps.Max(x, TOps.Zero) : x, ref Unsafe.Add(ref row, j));
            }

            for (; j < length; j++)
            {
                var x = Unsafe.Add(ref row, j) + Unsafe.Add(ref b, j);
                Unsafe.Add(ref row, j) = relu ? MathF.Max(x, 0f) : x;
            }
        }
    }

    // A 2x2 max-pool on its own (values only: prediction needs no source indices).
    private static void MaxPool(ReadOnlySpan<float> input, int channels, int height, int width, Span<float> output)
    {
        var (outHeight, outWidth) = (height / 2, width / 2);
        var o = 0;
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < outHeight; y++)
            {
                var top = ((c * height) + (2 * y)) * width;
                for (var x = 0; x < outWidth; x++, o++)
                {
                    var at = top + (2 * x);
                    output[o] = MathF.Max(MathF.Max(input[at], input[at + 1]), MathF.Max(input[at + width], input[at + width + 1]));
                }
            }
        }
    }

    /// <summary>One step of the convolutional part: a convolution (with its pool and ReLU when fused), a pool or an activation.</summary>
    private readonly record struct Step(
        LayerKind Kind, int Layer, int Channels, int Height, int Width, int Kernel, int OutChannels, int OutHeight, int OutWidth, bool Pooled, bool Relu,
        PooledConvolution? Direct = null);

    /// <summary>
    /// A linear layer (its weight transposed, inputs x <see cref="Stride"/>, whether a ReLU follows, and whether the
    /// weight is finite, so that one image may leave out its zero inputs), or an activation (<see cref="Outputs"/> 0).
    /// </summary>
    private sealed record DenseLayer(
        int Layer, int Inputs, int Outputs, int Stride, float[] TransposedWeight, bool Relu, LayerKind Activation = LayerKind.ReLU, bool Finite = false);
}
