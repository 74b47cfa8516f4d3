using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MnistCnn.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Evaluation;

/// <summary>
/// <see cref="Validator"/>'s per-batch work for <see cref="ConvNet"/> on the CPU in float32, in managed code
/// (<see cref="ConvNetForward"/>): the logits of every image, the batch's summed cross-entropy and the
/// confusion counts and the rank of each label's logit, with the images spread over <c>torch.get_num_threads()</c> workers.
/// </summary>
/// <remarks>
/// The logits agree with torch's to float32 rounding (about 1e-6 relative), so counts and accuracy are
/// torch's except where an image's two highest logits are that close; the mean loss may differ in the last
/// float32 digits.
/// </remarks>
internal sealed unsafe class ConvNetEvaluation
{
    private const int ImagesPerChunk = 16;
    private const int Classes = ConvNet.ClassCount;
    private const int ImagePixels = ConvNet.ImageSize * ConvNet.ImageSize;

    private readonly nint[] _parameters;
    private float[] _losses = [];
    private int[] _predictions = [];
    private int[] _ranks = [];

    private ConvNetEvaluation(nint[] parameters) => _parameters = parameters;

    /// <summary>A managed evaluator for <paramref name="model"/>, or <see langword="null"/> when it is not a plain float32 CPU <see cref="ConvNet"/> scoring <paramref name="classes"/> classes.</summary>
    public static ConvNetEvaluation? TryCreate(nn.Module<Tensor, Tensor> model, int classes)
    {
        if (model is not ConvNet network || classes != Classes || network.HasHooks)
        {
            return null;
        }

        var parameters = network.TrainableParameters();
        if (!parameters.All(CpuTensors.IsCpuFloat32))
        {
            return null;
        }

        // The parameters are neither replaced nor moved while the validator holds them (no training runs then).
        return new ConvNetEvaluation(parameters.Select(CpuTensors.Address).ToArray());
    }

    /// <summary>Whether a batch can be evaluated here (CPU float32 images <c>[N, 1, 28, 28]</c>, int64 labels <c>[N]</c>).</summary>
    public static bool Accepts(Tensor images, Tensor labels) => CpuTensors.IsConvNetBatch(images, labels);

    /// <summary>
    /// Adds the batch's predictions to <paramref name="confusion"/> (row = label) and the ranks of the labels' logits
    /// to <paramref name="ranks"/> (<see cref="Validator.LabelRank"/>), and returns its summed loss (float32, as torch's sum reduction).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A label is not a class of the network.</exception>
    public float Add(Tensor images, Tensor labels, long[] confusion, long[] ranks)
    {
        var count = (int)images.shape[0];
        var labelValues = MemoryMarshal.Cast<byte, long>(labels.bytes);
        foreach (var label in labelValues)
        {
            if ((ulong)label >= Classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"A label is outside the network's {Classes} classes.");
            }
        }

        if (_losses.Length < count)
        {
            (_losses, _predictions, _ranks) = (new float[count], new int[count], new int[count]);
        }

        var (pixels, labelAddress) = (CpuTensors.Address(images), CpuTensors.Address(labels));
        WorkItems.Run((count + ImagesPerChunk - 1) / ImagesPerChunk, Math.Max(1, get_num_threads()), chunk => Images(pixels, labelAddress, count, chunk));
        var sum = 0f;
        for (var n = 0; n < count; n++)
        {
            sum += _losses[n];
            confusion[(labelValues[n] * Classes) + _predictions[n]]++;
            ranks[_ranks[n]]++;
        }

        return sum;
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Images(nint pixels, nint labelAddress, int count, int chunk)
    {
        Span<float> input = stackalloc float[ConvNetForward.InputLength];
        Span<float> conv1 = stackalloc float[3 * ConvNetForward.Conv1Plane];
        Span<float> features = stackalloc float[ConvNetWeights.Features];
        Span<float> logits = stackalloc float[Classes];
        input.Clear();
        var p = _parameters;
        var images = new ReadOnlySpan<float>((float*)pixels, count * ImagePixels);
        var labels = new ReadOnlySpan<long>((long*)labelAddress, count);
        var end = Math.Min(count, (chunk + 1) * ImagesPerChunk);
        for (var n = chunk * ImagesPerChunk; n < end; n++)
        {
            ConvNetForward.LoadImage(images.Slice(n * ImagePixels, ImagePixels), input);
            ConvNetForward.Conv1(new ReadOnlySpan<float>((float*)p[0], 27), new ReadOnlySpan<float>((float*)p[1], 3), input, conv1);
            ConvNetForward.Conv2(new ReadOnlySpan<float>((float*)p[2], 162), new ReadOnlySpan<float>((float*)p[3], 6), conv1, features);
            ConvNetForward.Linear(new ReadOnlySpan<float>((float*)p[4], Classes * ConvNetWeights.Features), new ReadOnlySpan<float>((float*)p[5], Classes), features, logits);

            // torch's argmax: the first of equal maxima.
            var best = 0;
            var max = logits[0];
            for (var j = 1; j < Classes; j++)
            {
                if (logits[j] > max || float.IsNaN(logits[j]))
                {
                    (best, max) = (j, logits[j]);
                    if (float.IsNaN(max))
                    {
                        break;
                    }
                }
            }

            _predictions[n] = best;
            _ranks[n] = Validator.LabelRank(logits, (int)labels[n]);
            _losses[n] = ConvNetForward.LogSumExp(logits) - logits[(int)labels[n]];
        }
    }
}
