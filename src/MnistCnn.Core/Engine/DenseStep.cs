namespace MnistCnn.Core.Engine;

/// <summary>
/// <see cref="LayerPasses"/>' training step: the convolutional part per image (forward, then backward from each
/// image's feature gradient), the dense part over the whole batch as matrix products.
/// </summary>
/// <remarks>
/// Deterministic whatever the thread count: every work item is fixed in advance (chunks of images, column blocks
/// of a product) and computes its outputs whole, each convolution's per-image gradients are kept apart and summed
/// in image order, and a linear layer's weight gradient <c>dYᵀ·X</c> sums over the images in order inside one
/// product. So 1 and 2 threads give the same gradients bit for bit.
/// </remarks>
internal sealed unsafe class DenseStep : GradientStep
{
    /// <summary>Images per work item of the convolutional part (scheduling only).</summary>
    private const int ImagesPerChunk = 4;

    /// <summary>Columns per work item of a dense product (fixed, so results do not depend on the thread count).</summary>
    private const int ColumnBlock = 64;

    /// <summary>Elements per work item of the reduction of the convolutions' per-image gradients.</summary>
    private const int ReduceBlock = 2048;

    [ThreadStatic]
    private static float[]? _threadScratch;

    private readonly NetworkDescription _description;
    private readonly ConvPlan _plan;
    private readonly int[] _denseLayers;
    private readonly int[] _denseAt;
    private int _capacity;
    private float[] _images = [];
    private int[] _indices = [];
    private float[] _dense = [];
    private float[] _denseGradient = [];
    private float[] _spareGradient = [];
    private float[] _convGradients = [];
    private float[] _losses = [];

    public DenseStep(LayerPasses passes)
    {
        _description = passes.Description;
        _plan = passes.Plan;
        _denseLayers = Enumerable.Range(_description.FlattenIndex + 1, _description.Layers.Count - _description.FlattenIndex - 1).ToArray();

        // Each linear layer's outputs (per image) start here in a row of the dense buffer; activations work in place.
        _denseAt = new int[_description.Layers.Count];
        var at = 0;
        foreach (var i in _denseLayers)
        {
            if (_description.Layers[i].Kind == LayerKind.Linear)
            {
                _denseAt[i] = at;
                at += _description.Layers[i].Outputs;
            }
            else
            {
                _denseAt[i] = _denseAt[i - 1];
            }
        }

        DenseFloats = at;
    }

    private int DenseFloats { get; }

    private int WidestDense => Math.Max(_description.Features, _denseLayers.Max(i => _description.Layers[i].Outputs));

    /// <inheritdoc/>
    public override double Run(ParameterView parameters, ParameterView gradients, nint images, nint labels, int count, int threads, float labelSmoothing)
    {
        EnsureCapacity(count);
        var plan = _plan;
        var imageFloats = plan.ImageFloats;
        var chunks = (count + ImagesPerChunk - 1) / ImagesPerChunk;

        // 1. The convolutional part, per image.
        WorkItems.Run(chunks, threads, chunk =>
        {
            var columns = Scratch(plan.ColumnFloats);
            var source = new ReadOnlySpan<float>((float*)images, count * NetworkDescription.ImagePixels);
            for (var n = chunk * ImagesPerChunk; n < Math.Min(count, (chunk + 1) * ImagesPerChunk); n++)
            {
                var buffer = _images.AsSpan(n * imageFloats, imageFloats);
                source.Slice(n * NetworkDescription.ImagePixels, NetworkDescription.ImagePixels).CopyTo(buffer);
                plan.Forward(parameters, buffer, _indices.AsSpan(n * plan.ImageIndices, plan.ImageIndices), columns);
            }
        });

        // 2. The dense part over the batch.
        var (inputs, inputAt, inputStride) = (_images, plan.FeaturesAt, imageFloats);
        foreach (var i in _denseLayers)
        {
            var layer = _description.Layers[i];
            var started = StepProfiler.Start();
            if (layer.Kind == LayerKind.Linear)
            {
                var (dense, at, stride) = (_dense, _denseAt[i], DenseFloats);
                var (x, xAt, xStride) = (inputs, inputAt, inputStride);
                WorkItems.Run(Blocks(layer.Outputs), threads, block =>
                {
                    var (from, width) = Block(block, layer.Outputs);
                    Gemm.MultiplyTransposedB(count, width, layer.Inputs, x.AsSpan(xAt), xStride, parameters.Weight(i)[(from * layer.Inputs)..], layer.Inputs,
                        dense.AsSpan(at + from), stride, accumulate: false);
                });
                var bias = parameters.Bias(i);
                for (var n = 0; n < count; n++)
                {
                    Kernels.Add(dense.AsSpan((n * stride) + at, layer.Outputs), bias);
                }

                (inputs, inputAt, inputStride) = (dense, at, stride);
            }
            else
            {
                for (var n = 0; n < count; n++)
                {
                    Kernels.Activate(layer.Kind, _dense.AsSpan((n * DenseFloats) + _denseAt[i], _description.Shapes[i].Channels));
                }
            }

            StepProfiler.Stop(StepPart.Forward, i, started);
        }

        // 3. The loss and the logits' gradient.
        var lossStarted = StepProfiler.Start();
        var classes = _description.Classes;
        var logitsAt = _denseAt[^1];
        var labelValues = new ReadOnlySpan<long>((long*)labels, count);
        var loss = 0f;
        var gradient = _denseGradient.AsSpan();
        for (var n = 0; n < count; n++)
        {
            _losses[n] = Loss.SoftmaxCrossEntropy(_dense.AsSpan((n * DenseFloats) + logitsAt, classes), (int)labelValues[n], 1f / count,
                gradient.Slice(n * classes, classes), labelSmoothing);
            loss += _losses[n];
        }

        StepProfiler.Stop(StepPart.Loss, -1, lossStarted);

        // 4. The dense part backwards: gradients of the outputs (rows of the layer's width) in _denseGradient.
        for (var d = _denseLayers.Length - 1; d >= 0; d--)
        {
            var i = _denseLayers[d];
            var layer = _description.Layers[i];
            var started = StepProfiler.Start();
            if (layer.Kind != LayerKind.Linear)
            {
                var width = _description.Shapes[i].Channels;
                for (var n = 0; n < count; n++)
                {
                    Kernels.ActivationGradient(layer.Kind, _dense.AsSpan((n * DenseFloats) + _denseAt[i], width), _denseGradient.AsSpan(n * width, width));
                }

                StepProfiler.Stop(StepPart.Backward, i, started);
                continue;
            }

            var first = d == 0;
            var (x, xAt, xStride) = first ? (_images, plan.FeaturesAt, imageFloats) : (_dense, _denseAt[i - 1], DenseFloats);
            var (outputGradient, inputGradient) = (_denseGradient, _spareGradient);
            WorkItems.Run(2 * Blocks(layer.Inputs), threads, item =>
            {
                var (from, width) = Block(item / 2, layer.Inputs);
                if (item % 2 == 0)
                {
                    // dW[:, block] = dYᵀ · X[:, block], summed over the images in order.
                    Gemm.MultiplyTransposedA(layer.Outputs, width, count, outputGradient, layer.Outputs, x.AsSpan(xAt + from), xStride,
                        gradients.Weight(i)[from..], layer.Inputs, accumulate: false);
                }
                else
                {
                    // dX[:, block] = dY · W[:, block].
                    Gemm.Multiply(count, width, layer.Outputs, outputGradient, layer.Outputs, parameters.Weight(i)[from..], layer.Inputs,
                        inputGradient.AsSpan(from), layer.Inputs, accumulate: false);
                }
            });
            var biasGradient = gradients.Bias(i);
            biasGradient.Clear();
            for (var n = 0; n < count; n++)
            {
                Kernels.Add(biasGradient, outputGradient.AsSpan(n * layer.Outputs, layer.Outputs));
            }

            (_denseGradient, _spareGradient) = (_spareGradient, _denseGradient);
            StepProfiler.Stop(StepPart.WeightGradient, i, started);
        }

        // 5. The convolutional part backwards, per image, from its features' gradient (rows of Features in _denseGradient).
        var features = _description.Features;
        var convFloats = plan.ConvGradientFloats;
        WorkItems.Run(chunks, threads, chunk =>
        {
            var scratch = Scratch((2 * plan.ColumnFloats) + (2 * plan.GradientFloats));
            var columns = scratch.AsSpan(0, plan.ColumnFloats);
            var columnGradient = scratch.AsSpan(plan.ColumnFloats, plan.ColumnFloats);
            var one = scratch.AsSpan(2 * plan.ColumnFloats, plan.GradientFloats);
            var two = scratch.AsSpan((2 * plan.ColumnFloats) + plan.GradientFloats, plan.GradientFloats);
            for (var n = chunk * ImagesPerChunk; n < Math.Min(count, (chunk + 1) * ImagesPerChunk); n++)
            {
                _denseGradient.AsSpan(n * features, features).CopyTo(one);
                plan.Backward(parameters, _images.AsSpan(n * imageFloats, imageFloats), _indices.AsSpan(n * plan.ImageIndices, plan.ImageIndices),
                    one, two, columns, columnGradient, _convGradients.AsSpan(n * convFloats, convFloats));
            }
        });

        // 6. The convolutions' gradients: every element summed over the images in order.
        var reduceStarted = StepProfiler.Start();
        WorkItems.Run((convFloats + ReduceBlock - 1) / ReduceBlock, threads, block =>
        {
            var from = block * ReduceBlock;
            var width = Math.Min(ReduceBlock, convFloats - from);
            var sums = Scratch(width).AsSpan(0, width);
            sums.Clear();
            for (var n = 0; n < count; n++)
            {
                Kernels.Add(sums, _convGradients.AsSpan((n * convFloats) + from, width));
            }

            for (var p = 0; p < _description.Parameters.Count && _description.Parameters[p].Offset < convFloats; p++)
            {
                var parameter = _description.Parameters[p];
                var start = Math.Max(from, parameter.Offset);
                var end = Math.Min(from + width, parameter.Offset + parameter.Length);
                if (start < end)
                {
                    sums[(start - from)..(end - from)].CopyTo(gradients[p][(start - parameter.Offset)..]);
                }
            }
        });

        StepProfiler.Stop(StepPart.Reduce, -1, reduceStarted);
        return loss / count;
    }

    private static int Blocks(int columns) => (columns + ColumnBlock - 1) / ColumnBlock;

    private static (int From, int Width) Block(int block, int columns) => (block * ColumnBlock, Math.Min(ColumnBlock, columns - (block * ColumnBlock)));

    private static float[] Scratch(int length) => _threadScratch is { } s && s.Length >= length ? s : _threadScratch = new float[length];

    private void EnsureCapacity(int count)
    {
        if (_capacity >= count)
        {
            return;
        }

        _images = new float[count * _plan.ImageFloats];
        _indices = new int[Math.Max(1, count * _plan.ImageIndices)];
        _dense = new float[count * DenseFloats];
        _denseGradient = new float[count * WidestDense];
        _spareGradient = new float[count * WidestDense];
        _convGradients = new float[count * _plan.ConvGradientFloats];
        _losses = new float[count];
        _capacity = count;
    }
}
