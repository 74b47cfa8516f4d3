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
    private float[] _features = [];
    private float[] _logitGradients = [];
    private float[] _convGradients = [];
    private float[] _losses = [];

    /// <inheritdoc/>
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
            _features = new float[count * Features];
            _logitGradients = new float[count * Classes];
            _convGradients = new float[count * CaseStudyBackward.ConvGradientLength];
            _losses = new float[count];
        }
    }

    /// <summary>Forward and backward of the chunk's images, each image's results in its own slots.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Images(in Step step, int count, int chunk)
    {
        Span<float> input = stackalloc float[CaseStudyForward.InputLength];
        Span<float> conv1 = stackalloc float[3 * CaseStudyForward.Conv1Plane];
        Span<float> da2 = stackalloc float[CaseStudyBackward.Da2Length];
        Span<float> da1 = stackalloc float[CaseStudyBackward.Da1Length];
        Span<float> logits = stackalloc float[Classes];

        // The input's padding columns and da2's border are never written, so they stay zero for the chunk.
        input.Clear();
        da2.Clear();
        var parameters = step.Parameters;
        ReadOnlySpan<float> conv1Weight = parameters[0], conv1Bias = parameters[1], conv2Weight = parameters[2], conv2Bias = parameters[3];
        ReadOnlySpan<float> linearWeight = parameters[4], linearBias = parameters[5];
        var images = new ReadOnlySpan<float>((float*)step.Images, count * ImagePixels);
        var labels = new ReadOnlySpan<long>((long*)step.Labels, count);
        var scale = 1f / count;
        var end = Math.Min(count, (chunk + 1) * ImagesPerChunk);
        // The profile's layers are ConvNet's description: 0 conv1, 1 sigmoid, 2 conv2, 3 sigmoid, 5 linear1.
        for (var n = chunk * ImagesPerChunk; n < end; n++)
        {
            var started = StepProfiler.Start();
            CaseStudyForward.LoadImage(images.Slice(n * ImagePixels, ImagePixels), input);
            var features = _features.AsSpan(n * Features, Features);
            CaseStudyForward.Conv1(conv1Weight, conv1Bias, input, conv1);
            started = StepProfiler.Stop(StepPart.Forward, 0, started);
            CaseStudyForward.Conv2(conv2Weight, conv2Bias, conv1, features);
            started = StepProfiler.Stop(StepPart.Forward, 2, started);
            CaseStudyForward.Linear(linearWeight, linearBias, features, logits);
            started = StepProfiler.Stop(StepPart.Forward, 5, started);
            var dz = _logitGradients.AsSpan(n * Classes, Classes);
            _losses[n] = Loss.SoftmaxCrossEntropy(logits, (int)labels[n], scale, dz, step.LabelSmoothing);
            started = StepProfiler.Stop(StepPart.Loss, -1, started);

            // linear1's input gradient through conv2's sigmoid, with conv2's bias gradient.
            var gradients = _convGradients.AsSpan(n * CaseStudyBackward.ConvGradientLength, CaseStudyBackward.ConvGradientLength);
            CaseStudyBackward.Conv2OutputGradient(linearWeight, dz, features, da2, gradients[CaseStudyBackward.Conv2BiasOffset..]);
            started = StepProfiler.Stop(StepPart.InputGradient, 5, started);
            CaseStudyBackward.Conv2WeightGradient(da2, conv1, gradients[CaseStudyBackward.Conv2WeightOffset..]);
            started = StepProfiler.Stop(StepPart.WeightGradient, 2, started);
            CaseStudyBackward.Conv1OutputGradient(da2, _flippedConv2Weight, conv1, da1, gradients[CaseStudyBackward.Conv1BiasOffset..]);
            started = StepProfiler.Stop(StepPart.InputGradient, 2, started);
            CaseStudyBackward.Conv1WeightGradient(da1, input, gradients);
            StepProfiler.Stop(StepPart.WeightGradient, 0, started);
        }
    }

    private void LinearWeightBlock(in Step step, int count, int block)
    {
        const int Width = Features / LinearBlocks;
        var gradient = step.Gradients[4];
        var started = StepProfiler.Start();
        CaseStudyBackward.LinearWeightGradient(_logitGradients, _features, count, block * Width, (block + 1) * Width, gradient);
        StepProfiler.Stop(StepPart.WeightGradient, 5, started);
    }

    /// <summary>Sums the images' convolution and bias gradients in image order into the gradient tensors; returns the mean loss.</summary>
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

    /// <summary>What the workers read and write (spans cannot cross into lambdas).</summary>
    private readonly record struct Step(ParameterView Parameters, ParameterView Gradients, nint Images, nint Labels, float LabelSmoothing);
}
