using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Wasm;

namespace MnistCnn.Core.Engine;

/// <summary>
/// Prediction through the generic layers in 128-bit vectors, written for the WebAssembly interpreter of a browser
/// tab (<see cref="LayerPasses.CreatePredictor"/> makes it where the vector width is 128 bits): the same layers and
/// the same sums as <see cref="LayerPredictor"/>, one image at a time, shaped as <see cref="CaseStudyInterpreted"/>
/// explains (pointers, the interpreter's single-instruction vector operations, a multiply then an add).
/// </summary>
/// <remarks>
/// <para>
/// A convolution is im2col then a product by blocks of 4 output channels x 16 positions, whose 16 sums stay in
/// locals while the depth runs in order; the weights are stored broadcast (each value as a whole vector), so a
/// weight costs one load. With a 2x2 max-pool after it, the columns list the positions by corner of the pooling
/// window first, as <see cref="LayerPredictor"/> does, so the pool is the maximum of four contiguous blocks. A
/// linear layer runs over its transposed weight, 32 outputs at a time. Every sum starts at zero, adds its products
/// in input order and then the bias, as <see cref="LayerPredictor"/>'s do.
/// </para>
/// <para>Thread-safe: each call rents its scratch space.</para>
/// </remarks>
internal sealed unsafe class InterpretedLayerPredictor : Predictor
{
    private const int Rows = 4;
    private const int Positions = 16;
    private const int DenseBlock = 32;

    private readonly ParameterView _parameters;
    private readonly Stage[] _stages;
    private readonly int _activationFloats;
    private readonly int _scratchFloats;

    public InterpretedLayerPredictor(NetworkDescription description, ParameterView parameters)
        : base(description)
    {
        _parameters = parameters;
        var layers = description.Layers;
        var stages = new List<Stage>();
        var activation = NetworkDescription.ImagePixels;
        var work = 0;
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var (c, h, w) = description.Shapes[i];
            var (outChannels, outHeight, outWidth) = description.Shapes[i + 1];
            activation = Math.Max(activation, outChannels * outHeight * outWidth);
            switch (layer.Kind)
            {
                case LayerKind.Conv2d:
                    {
                        var (next, relu, pooled) = description.FusedWithConvolution(i);

                        var depth = c * layer.Kernel * layer.Kernel;
                        var positions = outHeight * outWidth;

                        // Room for the 128-bit copies of the last run to spill past the positions.
                        var stride = ((positions + 3 + Positions - 1) / Positions) * Positions;
                        var blocks = (outChannels + Rows - 1) / Rows;
                        var phases = pooled ? (c * 4 * ((h + 1) / 2) * ((w + 1) / 2)) + 4 : 0;
                        work = Math.Max(work, (depth * stride) + (blocks * Rows * stride) + phases);
                        stages.Add(new Stage(layer.Kind, i, c, h, w, layer.Kernel, outChannels, outHeight, outWidth, pooled, relu, depth, stride,
                            BroadcastWeights(parameters.Weight(i), outChannels, depth)));
                        i = next - 1;
                        break;
                    }

                case LayerKind.Linear:
                    {
                        var relu = i + 1 < layers.Count && layers[i + 1].Kind == LayerKind.ReLU;
                        var stride = (layer.Outputs + DenseBlock - 1) / DenseBlock * DenseBlock;
                        activation = Math.Max(activation, stride);
                        stages.Add(new Stage(layer.Kind, i, layer.Inputs, 1, 1, 0, layer.Outputs, 1, 1, false, relu, layer.Inputs, stride,
                            LayerPredictor.Transpose(parameters.Weight(i), layer.Outputs, layer.Inputs, stride)));
                        i += relu ? 1 : 0;
                        break;
                    }

                case LayerKind.Flatten:
                    break;

                default:
                    stages.Add(new Stage(layer.Kind, i, c, h, w, 0, outChannels, outHeight, outWidth, false, false, 0, 0, []));
                    break;
            }
        }

        _stages = [.. stages];
        _activationFloats = activation + 4;
        _scratchFloats = (2 * _activationFloats) + work + 4;
    }

    /// <inheritdoc/>
    public override void Logits(ReadOnlySpan<float> images, int count, Span<float> logits)
    {
        const int pixels = NetworkDescription.ImagePixels;
        var classes = Description.Classes;
        var scratch = ArrayPool<float>.Shared.Rent(_scratchFloats);
        try
        {
            fixed (float* s = scratch)
            {
                for (var n = 0; n < count; n++)
                {
                    var result = Run(images.Slice(n * pixels, pixels), s);
                    new ReadOnlySpan<float>(result, classes).CopyTo(logits.Slice(n * classes, classes));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    // One image through every stage; returns where its logits are.
    private float* Run(ReadOnlySpan<float> image, float* scratch)
    {
        var input = scratch;
        var output = scratch + _activationFloats;
        var work = scratch + (2 * _activationFloats);
        image.CopyTo(new Span<float>(input, image.Length));
        foreach (var stage in _stages)
        {
            switch (stage.Kind)
            {
                case LayerKind.Conv2d:
                    Convolve(stage, input, work, output);
                    break;
                case LayerKind.Linear:
                    Dense(stage, input, output);
                    break;
                case LayerKind.MaxPool2d:
                    MaxPool(input, stage.Channels, stage.Height, stage.Width, output);
                    break;
                default:
                    Kernels.Activate(stage.Kind, new Span<float>(input, stage.Channels * stage.Height * stage.Width));
                    continue;
            }

            var swap = input;
            input = output;
            output = swap;
        }

        return input;
    }

    private void Convolve(Stage stage, float* input, float* work, float* output)
    {
        var columns = work;
        var products = work + (stage.Depth * stage.Stride);
        if (stage.Pooled)
        {
            PooledColumns(stage, input, products + (((stage.OutChannels + Rows - 1) / Rows) * Rows * stage.Stride), columns);
        }
        else
        {
            Columns(stage, input, columns);
        }

        fixed (float* weights = stage.Weights)
        {
            Multiply(weights, columns, stage.OutChannels, stage.Depth, stage.Stride, products);
        }

        var bias = _parameters.Bias(stage.Layer);
        var positions = stage.OutHeight * stage.OutWidth;
        if (stage.Pooled)
        {
            PoolBiasActivate(products, stage.Stride, bias, positions / 4, stage.Relu, output);
        }
        else
        {
            BiasActivate(products, stage.Stride, bias, positions, stage.Relu, output);
        }
    }

    // columns[(c k + ky) k + kx, y W' + x] = input[c, y + ky, x + kx], rows of stage.Stride floats.
    private static void Columns(Stage stage, float* input, float* columns)
    {
        var (height, width, kernel) = (stage.Height, stage.Width, stage.Kernel);
        var (outHeight, outWidth) = (stage.OutHeight, stage.OutWidth);
        var to = columns;
        for (var c = 0; c < stage.Channels; c++)
        {
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++, to += stage.Stride)
                {
                    var from = input + (((c * height) + ky) * width) + kx;
                    for (var y = 0; y < outHeight; y++)
                    {
                        CopyRun(from + (y * width), to + (y * outWidth), outWidth);
                    }
                }
            }
        }
    }

    /// <summary>
    /// im2col with the positions ordered (corner of the pooling window, pooled row, pooled column), from the input's
    /// four planes of even/odd rows and columns (so that every run is contiguous), as <see cref="LayerPredictor"/>'s.
    /// </summary>
    private static void PooledColumns(Stage stage, float* input, float* phases, float* columns)
    {
        var (channels, height, width, kernel) = (stage.Channels, stage.Height, stage.Width, stage.Kernel);
        var (phaseHeight, phaseWidth) = ((height + 1) / 2, (width + 1) / 2);
        var phasePlane = phaseHeight * phaseWidth;
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                var row = input + (((c * height) + y) * width);
                var even = phases + ((((c * 2) + (y & 1)) * 2) * phasePlane) + ((y >> 1) * phaseWidth);
                var odd = even + phasePlane;
                var x = 0;
                for (; x + 1 < width; x += 2)
                {
                    even[x >> 1] = row[x];
                    odd[x >> 1] = row[x + 1];
                }

                if (x < width)
                {
                    even[x >> 1] = row[x];
                }
            }
        }

        var (pooledHeight, pooledWidth) = (stage.OutHeight / 2, stage.OutWidth / 2);
        var pooled = pooledHeight * pooledWidth;
        var to = columns;
        for (var c = 0; c < channels; c++)
        {
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++, to += stage.Stride)
                {
                    // Corners in order: a run's spill past its end is overwritten by the next run.
                    for (var corner = 0; corner < 4; corner++)
                    {
                        var (rows, cols) = ((corner >> 1) + ky, (corner & 1) + kx);
                        var from = phases + ((((c * 2) + (rows & 1)) * 2) + (cols & 1)) * phasePlane + ((rows >> 1) * phaseWidth) + (cols >> 1);
                        var block = to + (corner * pooled);
                        for (var py = 0; py < pooledHeight; py++)
                        {
                            CopyRun(from + (py * phaseWidth), block + (py * pooledWidth), pooledWidth);
                        }
                    }
                }
            }
        }
    }

    // Copies length floats in whole vectors: up to three floats past the end are written (and read) too.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRun(float* from, float* to, int length)
    {
        for (var i = 0; i < length; i += 4)
        {
            Store(Load(from + i), to + i);
        }
    }

    /// <summary>
    /// products[o, p] = sum over d, in order, of W[o, d] columns[d, p], for every output channel (padded to a whole
    /// block of <see cref="Rows"/>, whose extra rows are zero) and every position of the rows of stride floats.
    /// </summary>
    private static void Multiply(float* weights, float* columns, int outputs, int depth, int stride, float* products)
    {
        var blocks = (outputs + Rows - 1) / Rows;
        for (var block = 0; block < blocks; block++)
        {
            var blockWeights = weights + (block * depth * Rows * 4);
            var to = products + (block * Rows * stride);
            for (var p = 0; p < stride; p += Positions)
            {
                var w = blockWeights;
                var x = columns + p;
                Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
                Vector128<float> b0 = default, b1 = default, b2 = default, b3 = default;
                Vector128<float> c0 = default, c1 = default, c2 = default, c3 = default;
                Vector128<float> d0 = default, d1 = default, d2 = default, d3 = default;
                for (var d = 0; d < depth; d++, w += Rows * 4, x += stride)
                {
                    var x0 = Load(x);
                    var x1 = Load(x + 4);
                    var x2 = Load(x + 8);
                    var x3 = Load(x + 12);
                    var w0 = Load(w);
                    a0 += w0 * x0;
                    a1 += w0 * x1;
                    a2 += w0 * x2;
                    a3 += w0 * x3;
                    var w1 = Load(w + 4);
                    b0 += w1 * x0;
                    b1 += w1 * x1;
                    b2 += w1 * x2;
                    b3 += w1 * x3;
                    var w2 = Load(w + 8);
                    c0 += w2 * x0;
                    c1 += w2 * x1;
                    c2 += w2 * x2;
                    c3 += w2 * x3;
                    var w3 = Load(w + 12);
                    d0 += w3 * x0;
                    d1 += w3 * x1;
                    d2 += w3 * x2;
                    d3 += w3 * x3;
                }

                var row = to + p;
                Store(a0, row);
                Store(a1, row + 4);
                Store(a2, row + 8);
                Store(a3, row + 12);
                row += stride;
                Store(b0, row);
                Store(b1, row + 4);
                Store(b2, row + 8);
                Store(b3, row + 12);
                row += stride;
                Store(c0, row);
                Store(c1, row + 4);
                Store(c2, row + 8);
                Store(c3, row + 12);
                row += stride;
                Store(d0, row);
                Store(d1, row + 4);
                Store(d2, row + 8);
                Store(d3, row + 12);
            }
        }
    }

    // output[c, i] = act(max over the four corners of products[c, corner, i] + bias[c]), rows of stride floats in.
    private static void PoolBiasActivate(float* products, int stride, ReadOnlySpan<float> bias, int pooled, bool relu, float* output)
    {
        for (var c = 0; c < bias.Length; c++)
        {
            var block = products + (c * stride);
            var to = output + (c * pooled);
            var b = Vector128.Create(bias[c]);
            var i = 0;
            for (; i + 4 <= pooled; i += 4)
            {
                var m = Max(Max(Load(block + i), Load(block + pooled + i)), Max(Load(block + (2 * pooled) + i), Load(block + (3 * pooled) + i))) + b;
                Store(relu ? Max(m, Vector128<float>.Zero) : m, to + i);
            }

            for (; i < pooled; i++)
            {
                var m = MathF.Max(MathF.Max(block[i], block[pooled + i]), MathF.Max(block[(2 * pooled) + i], block[(3 * pooled) + i])) + bias[c];
                to[i] = relu ? MathF.Max(m, 0f) : m;
            }
        }
    }

    // output[c, i] = act(products[c, i] + bias[c]), rows of stride floats in, of positions floats out.
    private static void BiasActivate(float* products, int stride, ReadOnlySpan<float> bias, int positions, bool relu, float* output)
    {
        for (var c = 0; c < bias.Length; c++)
        {
            var from = products + (c * stride);
            var to = output + (c * positions);
            for (var i = 0; i < positions; i++)
            {
                var x = from[i] + bias[c];
                to[i] = relu ? MathF.Max(x, 0f) : x;
            }
        }
    }

    // output[j] = act(sum over i, in order, of input[i] W[j, i], then + bias[j]), 32 outputs at a time.
    private void Dense(Stage stage, float* input, float* output)
    {
        var (inputs, outputs, stride) = (stage.Depth, stage.OutChannels, stage.Stride);
        fixed (float* weights = stage.Weights)
        {
            for (var j = 0; j < stride; j += DenseBlock)
            {
                var w = weights + j;
                Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                for (var i = 0; i < inputs; i++, w += stride)
                {
                    var x = Vector128.Create(input[i]);
                    s0 += x * Load(w);
                    s1 += x * Load(w + 4);
                    s2 += x * Load(w + 8);
                    s3 += x * Load(w + 12);
                    s4 += x * Load(w + 16);
                    s5 += x * Load(w + 20);
                    s6 += x * Load(w + 24);
                    s7 += x * Load(w + 28);
                }

                var to = output + j;
                Store(s0, to);
                Store(s1, to + 4);
                Store(s2, to + 8);
                Store(s3, to + 12);
                Store(s4, to + 16);
                Store(s5, to + 20);
                Store(s6, to + 24);
                Store(s7, to + 28);
            }
        }

        var bias = _parameters.Bias(stage.Layer);
        for (var j = 0; j < outputs; j++)
        {
            var x = output[j] + bias[j];
            output[j] = stage.Relu ? MathF.Max(x, 0f) : x;
        }
    }

    // A 2x2 max-pool on its own.
    private static void MaxPool(float* input, int channels, int height, int width, float* output)
    {
        var (outHeight, outWidth) = (height / 2, width / 2);
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < outHeight; y++)
            {
                var top = input + (((c * height) + (2 * y)) * width);
                for (var x = 0; x < outWidth; x++, output++)
                {
                    var at = top + (2 * x);
                    *output = MathF.Max(MathF.Max(at[0], at[1]), MathF.Max(at[width], at[width + 1]));
                }
            }
        }
    }

    // W (outputs x depth) as [block of Rows outputs][d][row] vectors, each weight broadcast; rows past the outputs are zero.
    private static float[] BroadcastWeights(ReadOnlySpan<float> weight, int outputs, int depth)
    {
        Debug.Assert(weight.Length == outputs * depth);
        var blocks = (outputs + Rows - 1) / Rows;
        var broadcast = new float[blocks * depth * Rows * 4];
        for (var o = 0; o < outputs; o++)
        {
            var (block, row) = (o / Rows, o % Rows);
            for (var d = 0; d < depth; d++)
            {
                broadcast.AsSpan((((block * depth) + d) * Rows * 4) + (row * 4), 4).Fill(weight[(o * depth) + d]);
            }
        }

        return broadcast;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Load(float* source) => *(Vector128<float>*)source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector128<float> value, float* destination) => *(Vector128<float>*)destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Max(Vector128<float> left, Vector128<float> right) =>
        PackedSimd.IsSupported ? PackedSimd.Max(left, right) : Vector128.Max(left, right);

    /// <summary>
    /// One stage: a convolution (with its pool and ReLU when fused; <see cref="Weights"/> broadcast), a linear layer
    /// (<see cref="Depth"/> inputs, <see cref="Weights"/> transposed to rows of <see cref="Stride"/>), a pool or an activation.
    /// </summary>
    private sealed record Stage(
        LayerKind Kind, int Layer, int Channels, int Height, int Width, int Kernel, int OutChannels, int OutHeight, int OutWidth, bool Pooled, bool Relu,
        int Depth, int Stride, float[] Weights);
}
