using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MnistCnn.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// The gradients of a training step of <see cref="ConvNet"/> computed in managed code: forward (conv1 +
/// sigmoid, conv2 + sigmoid, linear), mean softmax cross-entropy over the batch, and the full backward pass,
/// written into the parameters' <c>.grad</c> tensors in place, as <c>zero_grad</c> + <c>backward</c> would
/// leave them. The optimizer step is the caller's.
/// </summary>
/// <remarks>
/// <para>
/// Taken only when everything is as the case study has it: the model is a <see cref="ConvNet"/> with no
/// forward hooks, in training mode, with all six parameters float32, contiguous, on the CPU and requiring
/// gradients; gradient recording is on; the images are float32 <c>[N, 1, 28, 28]</c> not requiring gradients
/// and the labels int64 <c>[N]</c>, both contiguous on the CPU. Anything else (CUDA, another model or dtype, frozen parameters,
/// hooks) goes through torch's autograd as before.
/// </para>
/// <para>
/// Why: torch spends a step of this small network mostly outside arithmetic (about a hundred tensor objects,
/// layout copies, oneDNN kernels that block 1, 3 and 6 channels by 16), see docs/performance.md.
/// </para>
/// <para>
/// Deterministic whatever the thread count: the images are spread over <c>torch.get_num_threads()</c>
/// workers (the run's <see cref="TrainerOptions.Threads"/>), but every image's convolution gradients are kept
/// apart and summed in image order, and linear1.weight's gradient is cut by feature columns, each summed
/// over the images in order. So the same seed gives the same weights, bit for bit, with 1 or 2 threads, and
/// a resumed run equals an uninterrupted one.
/// </para>
/// </remarks>
internal sealed unsafe class ConvNetTrainingStep
{
    /// <summary>Images per work item (scheduling only: results do not depend on it).</summary>
    private const int ImagesPerChunk = 4;

    /// <summary>Column blocks of linear1.weight's gradient (432 vectors of 8 = 8 blocks of 54).</summary>
    private const int LinearBlocks = 8;

    private const int ImagePixels = ConvNet.ImageSize * ConvNet.ImageSize;
    private const int Features = ConvNetWeights.Features;
    private const int Classes = ConvNet.ClassCount;

    // One workspace per optimizer (a run has one optimizer per model; concurrent runs have their own).
    private static readonly ConditionalWeakTable<OptimizerHelper, ConvNetTrainingStep> Workspaces = [];

    private readonly float[] _flippedConv2Weight = new float[162];
    private float[] _features = [];
    private float[] _logitGradients = [];
    private float[] _convGradients = [];
    private float[] _losses = [];

    /// <summary>
    /// Computes the batch's loss and gradients in managed code when the fused path applies (see the remarks),
    /// leaving them in the parameters' <c>.grad</c> tensors.
    /// </summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="optimizer">The run's optimizer: the workspace's owner.</param>
    /// <param name="images">The batch's images.</param>
    /// <param name="labels">The batch's labels.</param>
    /// <param name="loss">The batch's mean cross-entropy (float32, as torch computes it) when applied.</param>
    /// <returns>Whether the fused path applied; when not, nothing has changed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A label is not a class of the network (torch's path fails too).</exception>
    public static bool TryComputeGradients(nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer, Tensor images, Tensor labels, out double loss)
    {
        loss = 0;
        if (model is not ConvNet network)
        {
            return false;
        }

        var parameters = network.TrainableParameters();
        if (!Applies(network, parameters, images, labels))
        {
            return false;
        }

        var workspace = Workspaces.GetValue(optimizer, static _ => new ConvNetTrainingStep());
        loss = workspace.Run(parameters, images, labels, Math.Max(1, get_num_threads()));
        return true;
    }

    /// <summary>Whether the fused path computes exactly what torch's autograd would for this model and batch.</summary>
    internal static bool Applies(ConvNet network, Tensor images, Tensor labels) => Applies(network, network.TrainableParameters(), images, labels);

    private static bool Applies(ConvNet network, Parameter[] parameters, Tensor images, Tensor labels)
    {
        if (!network.training || network.HasHooks || !is_grad_enabled())
        {
            return false;
        }

        foreach (var parameter in parameters)
        {
            if (!parameter.requires_grad || !CpuTensors.IsCpuFloat32(parameter))
            {
                return false;
            }

            if (parameter.grad is { } grad && (!CpuTensors.IsCpuFloat32(grad) || grad.requires_grad || !grad.shape.SequenceEqual(parameter.shape)))
            {
                return false;
            }
        }

        // Images that require gradients ask for the input's gradient, which only autograd computes.
        return CpuTensors.IsConvNetBatch(images, labels) && !images.requires_grad && images.shape[0] > 0;
    }

    private double Run(Parameter[] parameters, Tensor images, Tensor labels, int threads)
    {
        var count = (int)images.shape[0];
        var grads = new Tensor[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            // zero_grad leaves no gradient (set_to_none); allocate it once, then it is written in place every step.
            grads[i] = parameters[i].grad ?? CreateGradient(parameters[i]);
        }

        var labelSpan = MemoryMarshal.Cast<byte, long>(labels.bytes);
        foreach (var label in labelSpan)
        {
            if ((ulong)label >= Classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"A label is outside the network's {Classes} classes.");
            }
        }

        EnsureCapacity(count);
        var step = new Pointers(parameters, grads, images, labels);
        ConvNetBackward.FlipConv2Weight(new ReadOnlySpan<float>((float*)step.Conv2Weight, 162), _flippedConv2Weight);
        var chunks = (count + ImagesPerChunk - 1) / ImagesPerChunk;
        WorkItems.Run(chunks, threads, chunk => Images(step, count, chunk));
        WorkItems.Run(LinearBlocks, threads, block => LinearWeightBlock(step, count, block));
        return Reduce(step, count);
    }

    private static Tensor CreateGradient(Parameter parameter)
    {
        using var noGrad = no_grad();
        parameter.grad = zeros_like(parameter).DetachFromDisposeScope();
        return parameter.grad!;
    }

    private void EnsureCapacity(int count)
    {
        if (_losses.Length < count)
        {
            _features = new float[count * Features];
            _logitGradients = new float[count * Classes];
            _convGradients = new float[count * ConvNetBackward.ConvGradientLength];
            _losses = new float[count];
        }
    }

    /// <summary>Forward and backward of the chunk's images, each image's results in its own slots.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Images(in Pointers step, int count, int chunk)
    {
        Span<float> input = stackalloc float[ConvNetForward.InputLength];
        Span<float> conv1 = stackalloc float[3 * ConvNetForward.Conv1Plane];
        Span<float> da2 = stackalloc float[ConvNetBackward.Da2Length];
        Span<float> da1 = stackalloc float[ConvNetBackward.Da1Length];
        Span<float> logits = stackalloc float[Classes];

        // The input's padding columns and da2's border are never written, so they stay zero for the chunk.
        input.Clear();
        da2.Clear();
        var conv1Weight = new ReadOnlySpan<float>((float*)step.Conv1Weight, 27);
        var conv1Bias = new ReadOnlySpan<float>((float*)step.Conv1Bias, 3);
        var conv2Weight = new ReadOnlySpan<float>((float*)step.Conv2Weight, 162);
        var conv2Bias = new ReadOnlySpan<float>((float*)step.Conv2Bias, 6);
        var linearWeight = new ReadOnlySpan<float>((float*)step.LinearWeight, Classes * Features);
        var linearBias = new ReadOnlySpan<float>((float*)step.LinearBias, Classes);
        var images = new ReadOnlySpan<float>((float*)step.Images, count * ImagePixels);
        var labels = new ReadOnlySpan<long>((long*)step.Labels, count);
        var scale = 1f / count;
        var end = Math.Min(count, (chunk + 1) * ImagesPerChunk);
        for (var n = chunk * ImagesPerChunk; n < end; n++)
        {
            ConvNetForward.LoadImage(images.Slice(n * ImagePixels, ImagePixels), input);
            var features = _features.AsSpan(n * Features, Features);
            ConvNetForward.Conv1(conv1Weight, conv1Bias, input, conv1);
            ConvNetForward.Conv2(conv2Weight, conv2Bias, conv1, features);
            ConvNetForward.Linear(linearWeight, linearBias, features, logits);
            var dz = _logitGradients.AsSpan(n * Classes, Classes);
            _losses[n] = ConvNetBackward.SoftmaxCrossEntropy(logits, (int)labels[n], scale, dz);

            var gradients = _convGradients.AsSpan(n * ConvNetBackward.ConvGradientLength, ConvNetBackward.ConvGradientLength);
            ConvNetBackward.Conv2OutputGradient(linearWeight, dz, features, da2, gradients[ConvNetBackward.Conv2BiasOffset..]);
            ConvNetBackward.Conv2WeightGradient(da2, conv1, gradients[ConvNetBackward.Conv2WeightOffset..]);
            ConvNetBackward.Conv1OutputGradient(da2, _flippedConv2Weight, conv1, da1, gradients[ConvNetBackward.Conv1BiasOffset..]);
            ConvNetBackward.Conv1WeightGradient(da1, input, gradients);
        }
    }

    private void LinearWeightBlock(in Pointers step, int count, int block)
    {
        const int Width = Features / LinearBlocks;
        var gradient = new Span<float>((float*)step.LinearWeightGrad, Classes * Features);
        ConvNetBackward.LinearWeightGradient(_logitGradients, _features, count, block * Width, (block + 1) * Width, gradient);
    }

    /// <summary>Sums the images' convolution and bias gradients in image order into the gradient tensors; returns the mean loss.</summary>
    private double Reduce(in Pointers step, int count)
    {
        const int Length = ConvNetBackward.ConvGradientLength;
        Span<float> sums = stackalloc float[Length + 2]; // + 2: a whole last vector
        sums.Clear();
        ref var total = ref MemoryMarshal.GetReference(sums);
        ref var parts = ref MemoryMarshal.GetArrayDataReference(_convGradients);
        for (var n = 0; n < count; n++)
        {
            var i = 0;
            for (; i + 8 <= Length; i += 8)
            {
                (Vector256.LoadUnsafe(ref total, (nuint)i) + Vector256.LoadUnsafe(ref parts, (nuint)((n * Length) + i))).StoreUnsafe(ref total, (nuint)i);
            }

            for (; i < Length; i++)
            {
                Unsafe.Add(ref total, i) += Unsafe.Add(ref parts, (n * Length) + i);
            }
        }

        sums[..27].CopyTo(new Span<float>((float*)step.Conv1WeightGrad, 27));
        sums.Slice(ConvNetBackward.Conv1BiasOffset, 3).CopyTo(new Span<float>((float*)step.Conv1BiasGrad, 3));
        sums.Slice(ConvNetBackward.Conv2WeightOffset, 162).CopyTo(new Span<float>((float*)step.Conv2WeightGrad, 162));
        sums.Slice(ConvNetBackward.Conv2BiasOffset, 6).CopyTo(new Span<float>((float*)step.Conv2BiasGrad, 6));

        var linearBias = new Span<float>((float*)step.LinearBiasGrad, Classes);
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

    /// <summary>The step's tensors' memory, for the workers (spans cannot cross into lambdas).</summary>
    private readonly struct Pointers
    {
        public Pointers(Parameter[] parameters, Tensor[] grads, Tensor images, Tensor labels)
        {
            Conv1Weight = CpuTensors.Address(parameters[0]);
            Conv1Bias = CpuTensors.Address(parameters[1]);
            Conv2Weight = CpuTensors.Address(parameters[2]);
            Conv2Bias = CpuTensors.Address(parameters[3]);
            LinearWeight = CpuTensors.Address(parameters[4]);
            LinearBias = CpuTensors.Address(parameters[5]);
            Conv1WeightGrad = CpuTensors.Address(grads[0]);
            Conv1BiasGrad = CpuTensors.Address(grads[1]);
            Conv2WeightGrad = CpuTensors.Address(grads[2]);
            Conv2BiasGrad = CpuTensors.Address(grads[3]);
            LinearWeightGrad = CpuTensors.Address(grads[4]);
            LinearBiasGrad = CpuTensors.Address(grads[5]);
            Images = CpuTensors.Address(images);
            Labels = CpuTensors.Address(labels);
        }

        public nint Conv1Weight { get; }

        public nint Conv1Bias { get; }

        public nint Conv2Weight { get; }

        public nint Conv2Bias { get; }

        public nint LinearWeight { get; }

        public nint LinearBias { get; }

        public nint Conv1WeightGrad { get; }

        public nint Conv1BiasGrad { get; }

        public nint Conv2WeightGrad { get; }

        public nint Conv2BiasGrad { get; }

        public nint LinearWeightGrad { get; }

        public nint LinearBiasGrad { get; }

        public nint Images { get; }

        public nint Labels { get; }
    }
}
