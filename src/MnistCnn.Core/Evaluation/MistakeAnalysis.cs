using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Evaluation;

/// <summary>
/// What a model gets wrong, as fastai's classification interpretation shows it: the images it is most wrong about
/// (top losses) and the (label, prediction) pairs it confuses most often.
/// </summary>
public static class MistakeAnalysis
{
    /// <summary>
    /// Runs <paramref name="model"/> (torch's forward pass, any classifier) over every image of
    /// <paramref name="dataset"/> in evaluation mode without gradients, and reports the images with the highest
    /// cross-entropy loss and the most confused pairs. The model's training mode is restored afterwards.
    /// </summary>
    /// <param name="model">A classifier returning logits <c>[N, ClassCount]</c>, on the device it should run on.</param>
    /// <param name="dataset">The images to examine, usually the test set.</param>
    /// <param name="options">How much to report; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The report: plain values, no tensors.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="dataset"/> is null.</exception>
    /// <exception cref="ArgumentException">The model cannot take the images, or its output width differs from the class count.</exception>
    /// <exception cref="ObjectDisposedException">The data set is disposed.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    public static MistakeReport Analyze(
        nn.Module<Tensor, Tensor> model,
        IDigitDataset dataset,
        MistakeAnalysisOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new MistakeAnalysisOptions();
        TorchRuntime.EnsureAvailable();
        ClassifierCheck.EnsureFits(model, dataset);
        var (count, classes) = (dataset.Count, dataset.ClassCount);
        var labels = new long[count];
        var predicted = new long[count];
        var labelLogProbability = new double[count];
        var predictedLogProbability = new double[count];
        Score(model, dataset, options.BatchSize, labels, predicted, labelLogProbability, predictedLogProbability, cancellationToken);

        var confusion = new int[classes * classes];
        var errors = 0;
        for (var i = 0; i < count; i++)
        {
            confusion[(labels[i] * classes) + predicted[i]]++;
            errors += labels[i] != predicted[i] ? 1 : 0;
        }

        // Highest loss first; equal losses in index order, so the report never depends on the sort's whims.
        var top = Enumerable.Range(0, count)
            .OrderBy(i => labelLogProbability[i])
            .ThenBy(i => i)
            .Take(options.TopLosses)
            .Select(i => new HighLossImage
            {
                Index = i,
                Label = (int)labels[i],
                Predicted = (int)predicted[i],
                Confidence = Math.Exp(predictedLogProbability[i]),
                LabelProbability = Math.Exp(labelLogProbability[i]),
                Loss = -labelLogProbability[i],
                Height = dataset.ImageHeight,
                Width = dataset.ImageWidth,
                Pixels = PixelsOf(dataset, i),
            })
            .ToArray();
        var pairs = Enumerable.Range(0, classes * classes)
            .Where(cell => cell / classes != cell % classes && confusion[cell] >= options.MinimumPairCount)
            .OrderByDescending(cell => confusion[cell])
            .ThenBy(cell => cell)
            .Take(options.ConfusedPairs)
            .Select(cell => new ConfusedPair { Label = cell / classes, Predicted = cell % classes, Count = confusion[cell] })
            .ToArray();
        return new MistakeReport { ImageCount = count, ErrorCount = errors, TopLosses = top, MostConfused = pairs, ClassNames = dataset.ClassNames };
    }

    /// <summary>Fills, per image, its label, the predicted class and the log-probabilities of both.</summary>
    private static void Score(
        nn.Module<Tensor, Tensor> model,
        IDigitDataset dataset,
        int batchSize,
        long[] labels,
        long[] predicted,
        double[] labelLogProbability,
        double[] predictedLogProbability,
        CancellationToken cancellationToken)
    {
        var device = ClassifierCheck.DeviceOf(model);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            for (var start = 0; start < labels.Length; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var size = Math.Min(batchSize, labels.Length - start);
                using var batch = dataset.GetBatch(start, size, device);
                var logits = model.call(batch.Images.to(device));
                if (start == 0)
                {
                    ClassifierCheck.EnsureLogits(logits, dataset.ClassCount, nameof(model));
                }

                // float64 from the logits on: the loss of a confident mistake is a difference of large numbers.
                var logProbabilities = nn.functional.log_softmax(logits.to(ScalarType.Float64), 1);
                var batchLabels = batch.Labels.to(device);
                var best = logits.argmax(1);
                Copy(batchLabels, labels.AsSpan(start, size));
                Copy(best, predicted.AsSpan(start, size));
                Copy(logProbabilities.gather(1, batchLabels.unsqueeze(1)).squeeze(1), labelLogProbability.AsSpan(start, size));
                Copy(logProbabilities.gather(1, best.unsqueeze(1)).squeeze(1), predictedLogProbability.AsSpan(start, size));
            }
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static void Copy<T>(Tensor values, Span<T> target)
        where T : unmanaged
    {
        using var onCpu = values.cpu().contiguous();
        onCpu.data<T>().CopyTo(target);
    }

    private static float[] PixelsOf(IDigitDataset dataset, int index)
    {
        using var scope = NewDisposeScope();
        using var batch = dataset.GetBatch(index, 1, CPU);
        return batch.Images.contiguous().data<float>().ToArray();
    }
}
