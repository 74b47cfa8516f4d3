using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Engine;

/// <summary>
/// Validation's per-batch work for an engine network on the CPU in float32, in managed code: the logits of every
/// image, the batch's summed cross-entropy, the confusion counts and the rank of each label's logit, with the
/// images spread over <c>torch.get_num_threads()</c> workers.
/// </summary>
/// <remarks>
/// The logits agree with torch's to float32 rounding (about 1e-6 relative), so counts and accuracy are
/// torch's except where an image's two highest logits are that close; the mean loss may differ in the last
/// float32 digits.
/// </remarks>
internal sealed unsafe class ManagedEvaluation
{
    private const int ImagesPerChunk = 16;

    private readonly NetworkPasses _passes;
    private readonly Predictor _predictor;
    private float[] _losses = [];
    private int[] _predictions = [];
    private int[] _ranks = [];

    // One predictor for the evaluator's life (one validation pass): it may copy the parameters, which do not change
    // while a validator holds them; training changes them between passes, which make evaluators of their own.
    private ManagedEvaluation(NetworkPasses passes, ParameterView parameters) => (_passes, _predictor) = (passes, passes.CreatePredictor(parameters));

    /// <summary>A managed evaluator for <paramref name="model"/>, or <see langword="null"/> when it is not a plain
    /// float32 CPU engine network scoring <paramref name="classes"/> classes.</summary>
    public static ManagedEvaluation? TryCreate(nn.Module<Tensor, Tensor> model, int classes)
    {
        if (model is not IEngineNetwork network || classes != network.Description.Classes || network.HasHooks)
        {
            return null;
        }

        var parameters = network.EngineParameters();
        if (!parameters.All(CpuTensors.IsCpuFloat32))
        {
            return null;
        }

        // The parameters are neither replaced nor moved while the validator holds them (no training runs then).
        return new ManagedEvaluation(NetworkPasses.For(network.Description), CpuTensors.View(network.Description, parameters));
    }

    /// <summary>Whether a batch can be evaluated here (CPU float32 images <c>[N, 1, 28, 28]</c>, int64 labels <c>[N]</c>).</summary>
    public static bool Accepts(Tensor images, Tensor labels) => CpuTensors.IsImageBatch(images, labels);

    /// <summary>
    /// Adds the batch's predictions to <paramref name="confusion"/> (row = label) and the ranks of the labels' logits
    /// to <paramref name="ranks"/> (<see cref="Loss.LabelRank"/>), and returns its summed loss (float32, as torch's sum reduction).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A label is not a class of the network.</exception>
    public float Add(Tensor images, Tensor labels, long[] confusion, long[] ranks)
    {
        var classes = _passes.Description.Classes;
        var count = (int)images.size(0);
        var labelValues = MemoryMarshal.Cast<byte, long>(labels.bytes);
        foreach (var label in labelValues)
        {
            if ((ulong)label >= (ulong)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"A label is outside the network's {classes} classes.");
            }
        }

        if (_losses.Length < count)
        {
            (_losses, _predictions, _ranks) = (new float[count], new int[count], new int[count]);
        }

        var (pixels, labelAddress) = (CpuTensors.Address(images), CpuTensors.Address(labels));
        WorkItems.Run(
            (count + ImagesPerChunk - 1) / ImagesPerChunk, Math.Max(1, get_num_threads()), chunk => Images(_predictor, pixels, labelAddress, count, chunk));
        var sum = 0f;
        for (var n = 0; n < count; n++)
        {
            sum += _losses[n];
            confusion[(labelValues[n] * classes) + _predictions[n]]++;
            ranks[_ranks[n]]++;
        }

        return sum;
    }

    private void Images(Predictor predictor, nint pixels, nint labelAddress, int count, int chunk)
    {
        var classes = _passes.Description.Classes;
        Span<float> chunkLogits = stackalloc float[ImagesPerChunk * classes];
        var images = new ReadOnlySpan<float>((float*)pixels, count * NetworkDescription.ImagePixels);
        var labels = new ReadOnlySpan<long>((long*)labelAddress, count);
        var first = chunk * ImagesPerChunk;
        var end = Math.Min(count, first + ImagesPerChunk);
        predictor.Logits(images.Slice(first * NetworkDescription.ImagePixels, (end - first) * NetworkDescription.ImagePixels), end - first, chunkLogits);
        for (var n = first; n < end; n++)
        {
            var logits = chunkLogits.Slice((n - first) * classes, classes);
            _predictions[n] = Loss.ArgMax(logits);
            _ranks[n] = Loss.LabelRank(logits, (int)labels[n]);
            _losses[n] = Loss.LogSumExp(logits) - logits[(int)labels[n]];
        }
    }
}
