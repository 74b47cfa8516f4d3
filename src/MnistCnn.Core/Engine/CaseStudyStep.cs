using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// The case study's training step with its hand-tuned kernels (<see cref="CaseStudyForward"/>,
/// <see cref="CaseStudyBackward"/>): forward (conv1 + sigmoid, conv2 + sigmoid, linear), mean softmax
/// cross-entropy over the batch, and the full backward pass.
/// </summary>
/// <remarks>
/// <para>
/// Why: torch spends a step of this small network mostly outside arithmetic (about a hundred tensor objects,
/// layout copies, oneDNN kernels that block 1, 3 and 6 channels by 16), see docs/performance.md.
/// </para>
/// <para>
/// Deterministic whatever the thread count: every image's convolution gradients are kept apart and summed in
/// image order, and linear1.weight's gradient is cut by feature columns, each summed over the images in order.
/// </para>
/// <para>
/// The methods a step runs on every batch, here and around it (the work items, the batch's pixels, the loss, the fused
/// Adam update), are compiled fully optimized at their first call: with tiered compilation alone they ran unoptimized,
/// then instrumented, through most of the first epoch (measured: the case study's first epoch 0.62 s, then 0.50 s;
/// later epochs 0.42 s either way).
/// </para>
/// </remarks>
internal sealed unsafe class CaseStudyStep : GradientStep
{
    /// <summary>Images per work item (scheduling only: results do not depend on it).</summary>
    private const int ImagesPerChunk = 4;

    /// <summary>Column blocks of linear1.weight's gradient (432 vectors of 8 = 8 blocks of 54).</summary>
    private const int LinearBlocks = 8;

    private const int ImagePixels = NetworkDescription.ImageSize * NetworkDescription.ImageSize;
    private const int Features = CaseStudyForward.Features;
    private const int Classes = CaseStudyForward.Classes;

    private readonly float[] _flippedConv2Weight = new float[CaseStudyForward.Conv2WeightLength];
    private AlignedBuffer _features = new(0);
    private float[] _logitGradients = [];
    private float[] _convGradients = [];
    private float[] _losses = [];

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override double Run(ParameterView parameters, ParameterView gradients, nint images, nint labels, int count, int threads, float labelSmoothing)
    {
        EnsureCapacity(count);
        var step = new Step(parameters, gradients, images, labels, labelSmoothing);
        CaseStudyBackward.FlipConv2Weight(parameters[2], _flippedConv2Weight);
        var chunks = (count + ImagesPerChunk - 1) / ImagesPerChunk;
        WorkItems.Run(chunks, threads, chunk => Images(step, count, chunk));
        WorkItems.Run(LinearBlocks, threads, block => LinearWeightBlock(step, count, block));
        var started = StepProfiler.Start();
        var loss = Reduce(step, count);
        StepProfiler.Stop(StepPart.Reduce, -1, started);
        return loss;
    }

    private void EnsureCapacity(int count)
    {
        if (_losses.Length < count)
        {
            _features = new AlignedBuffer(count * Features);
            _logitGradients = new float[count * Classes];
            _convGradients = new float[count * CaseStudyBackward.ConvGradientLength];
            _losses = new float[count];
        }
    }

    /// <summary>
    /// Forward and backward of the chunk's images, each image's results in its own slots. The convolutions run an
    /// image at a time; the linear layer's forward pass and input gradient run the chunk's images together (a whole chunk
    /// through <see cref="CaseStudyForward.Linear4"/>, then conv2's output gradient a channel at a time for every image), so
    /// linear1.weight is read from the level-2 cache once a chunk instead of twice an image.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Images(in Step step, int count, int chunk)
    {
        Span<float> da1 = stackalloc float[CaseStudyBackward.Da1Length];
        Span<float> logits = stackalloc float[ImagesPerChunk * Classes];
        var buffers = ChunkBuffers.Current;
        var parameters = step.Parameters;
        ReadOnlySpan<float> conv1Weight = parameters[0], conv1Bias = parameters[1], conv2Weight = parameters[2], conv2Bias = parameters[3];
        ReadOnlySpan<float> linearWeight = parameters[4], linearBias = parameters[5];
        var images = new ReadOnlySpan<float>((float*)step.Images, count * ImagePixels);
        var labels = new ReadOnlySpan<long>((long*)step.Labels, count);
        var scale = 1f / count;
        var first = chunk * ImagesPerChunk;
        var size = Math.Min(count - first, ImagesPerChunk);

        // The profile's layers are ConvNet's description: 0 conv1, 1 sigmoid, 2 conv2, 3 sigmoid, 5 linear1.
        var started = StepProfiler.Start();
        for (var k = 0; k < size; k++)
        {
            var n = first + k;
            var input = buffers.Input(k);
            var conv1 = buffers.Conv1(k);
            CaseStudyForward.LoadImage(images.Slice(n * ImagePixels, ImagePixels), input);
            CaseStudyForward.Conv1(conv1Weight, conv1Bias, input, conv1);
            started = StepProfiler.Stop(StepPart.Forward, 0, started);
            CaseStudyForward.Conv2(conv2Weight, conv2Bias, conv1, _features.Span.Slice(n * Features, Features));
            started = StepProfiler.Stop(StepPart.Forward, 2, started);
        }

        var features = _features.Span.Slice(first * Features, size * Features);
        if (size == ImagesPerChunk)
        {
            CaseStudyForward.Linear4(linearWeight, linearBias, features, logits);
        }
        else
        {
            for (var k = 0; k < size; k++)
            {
                CaseStudyForward.Linear(linearWeight, linearBias, features.Slice(k * Features, Features), logits.Slice(k * Classes, Classes));
            }
        }

        started = StepProfiler.Stop(StepPart.Forward, 5, started);
        var logitGradients = _logitGradients.AsSpan(first * Classes, size * Classes);
        for (var k = 0; k < size; k++)
        {
            var n = first + k;
            var dz = logitGradients.Slice(k * Classes, Classes);
            _losses[n] = Loss.SoftmaxCrossEntropy(logits.Slice(k * Classes, Classes), (int)labels[n], scale, dz, step.LabelSmoothing);
        }

        started = StepProfiler.Stop(StepPart.Loss, -1, started);

        // linear1's input gradient through conv2's sigmoid, with conv2's bias gradient.
        var gradients = _convGradients.AsSpan(first * CaseStudyBackward.ConvGradientLength, size * CaseStudyBackward.ConvGradientLength);
        if (size == ImagesPerChunk)
        {
            CaseStudyBackward.Conv2OutputGradient4(linearWeight, logitGradients, features, buffers.Da2Block, gradients);
        }
        else
        {
            for (var channel = 0; channel < CaseStudyForward.Conv2Channels; channel++)
            {
                for (var k = 0; k < size; k++)
                {
                    CaseStudyBackward.Conv2OutputGradient(
                        linearWeight, logitGradients.Slice(k * Classes, Classes), features.Slice(k * Features, Features), buffers.Da2(k),
                        gradients.Slice((k * CaseStudyBackward.ConvGradientLength) + CaseStudyBackward.Conv2BiasOffset), channel);
                }
            }
        }

        started = StepProfiler.Stop(StepPart.InputGradient, 5, started);
        for (var k = 0; k < size; k++)
        {
            var imageGradients = gradients.Slice(k * CaseStudyBackward.ConvGradientLength, CaseStudyBackward.ConvGradientLength);
            var da2 = buffers.Da2(k);
            var conv1 = buffers.Conv1(k);
            CaseStudyBackward.Conv2WeightGradient(da2, conv1, imageGradients[CaseStudyBackward.Conv2WeightOffset..]);
            started = StepProfiler.Stop(StepPart.WeightGradient, 2, started);
            CaseStudyBackward.Conv1OutputGradient(da2, _flippedConv2Weight, conv1, da1, imageGradients[CaseStudyBackward.Conv1BiasOffset..]);
            started = StepProfiler.Stop(StepPart.InputGradient, 2, started);
            CaseStudyBackward.Conv1WeightGradient(da1, buffers.Input(k), imageGradients);
            started = StepProfiler.Stop(StepPart.WeightGradient, 0, started);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void LinearWeightBlock(in Step step, int count, int block)
    {
        const int Width = Features / LinearBlocks;
        var gradient = step.Gradients[4];
        var started = StepProfiler.Start();
        CaseStudyBackward.LinearWeightGradient(_logitGradients, _features.Span, count, block * Width, (block + 1) * Width, gradient);
        StepProfiler.Stop(StepPart.WeightGradient, 5, started);
    }

    /// <summary>Sums the images' convolution and bias gradients in image order into the gradient tensors; returns the mean loss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private double Reduce(in Step step, int count)
    {
        const int Length = CaseStudyBackward.ConvGradientLength;
        Span<float> sums = stackalloc float[Length + 2]; // + 2: a whole last vector
        sums.Clear();
        ref var total = ref MemoryMarshal.GetReference(sums);
        ref var parts = ref MemoryMarshal.GetArrayDataReference(_convGradients);

        // Element-wise sums, the same bits at any width; where 256 bits are emulated (WebAssembly) they run as scalars.
        var vectorized = VectorWidth.Bits >= 256 ? Length - (Length % 8) : 0;
        for (var n = 0; n < count; n++)
        {
            var i = 0;
            for (; i < vectorized; i += 8)
            {
                (Vector256.LoadUnsafe(ref total, (nuint)i) + Vector256.LoadUnsafe(ref parts, (nuint)((n * Length) + i))).StoreUnsafe(ref total, (nuint)i);
            }

            for (; i < Length; i++)
            {
                Unsafe.Add(ref total, i) += Unsafe.Add(ref parts, (n * Length) + i);
            }
        }

        var gradients = step.Gradients;
        sums[..CaseStudyForward.Conv1WeightLength].CopyTo(gradients[0]);
        sums.Slice(CaseStudyBackward.Conv1BiasOffset, CaseStudyForward.Conv1Channels).CopyTo(gradients[1]);
        sums.Slice(CaseStudyBackward.Conv2WeightOffset, CaseStudyForward.Conv2WeightLength).CopyTo(gradients[2]);
        sums.Slice(CaseStudyBackward.Conv2BiasOffset, CaseStudyForward.Conv2Channels).CopyTo(gradients[3]);

        var linearBias = gradients[5];
        linearBias.Clear();
        var loss = 0f;
        for (var n = 0; n < count; n++)
        {
            for (var j = 0; j < Classes; j++)
            {
                linearBias[j] += _logitGradients[(n * Classes) + j];
            }

            loss += _losses[n];
        }

        return loss / count;
    }

    /// <summary>
    /// One thread's buffers for a chunk's images: the padded inputs, conv1's outputs and conv2's border-padded gradients.
    /// Kept per thread and reused, so they stay in its caches; the inputs' padding and da2's border are never written, so
    /// they stay zero from allocation.
    /// </summary>
    private sealed class ChunkBuffers
    {
        private const int Conv1Length = CaseStudyForward.Conv1Channels * CaseStudyForward.Conv1Plane;

        [ThreadStatic]
        private static ChunkBuffers? _current;

        private readonly AlignedBuffer _inputs = new(ImagesPerChunk * CaseStudyForward.InputLength);
        private readonly AlignedBuffer _conv1 = new(ImagesPerChunk * Conv1Length);
        private readonly AlignedBuffer _da2 = new(ImagesPerChunk * CaseStudyBackward.Da2Length);

        /// <summary>The calling thread's buffers.</summary>
        public static ChunkBuffers Current => _current ??= new ChunkBuffers();

        public Span<float> Input(int k) => _inputs.Span.Slice(k * CaseStudyForward.InputLength, CaseStudyForward.InputLength);

        public Span<float> Conv1(int k) => _conv1.Span.Slice(k * Conv1Length, Conv1Length);

        public Span<float> Da2Block => _da2.Span;


        public Span<float> Da2(int k) => _da2.Span.Slice(k * CaseStudyBackward.Da2Length, CaseStudyBackward.Da2Length);
    }

    /// <summary>What the workers read and write (spans cannot cross into lambdas).</summary>
    private readonly record struct Step(ParameterView Parameters, ParameterView Gradients, nint Images, nint Labels, float LabelSmoothing);
}
