using MnistCnn.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Evaluation;

/// <summary>
/// Measures a classifier over a whole loader: in evaluation mode, without gradients, on the model's device.
/// The model's previous training/evaluation mode is restored afterwards.
/// </summary>
public static class Validator
{
    /// <summary>Computes the accuracy in percent of <paramref name="model"/> over every batch of <paramref name="loader"/>.</summary>
    /// <param name="model">A classifier returning logits <c>[N, ClassCount]</c>.</param>
    /// <param name="loader">The images to classify.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The percentage of images whose highest logit is their label.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The model's output width differs from the dataset's class count.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    public static double Accuracy(nn.Module<Tensor, Tensor> model, DigitDataLoader loader, CancellationToken cancellationToken = default) =>
        Evaluate(model, loader, cancellationToken).Accuracy;

    /// <summary>Computes accuracy, mean loss, per-class accuracy and the confusion matrix over every batch of <paramref name="loader"/>.</summary>
    /// <param name="model">A classifier returning logits <c>[N, ClassCount]</c>.</param>
    /// <param name="loader">The images to classify.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The evaluation.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The model's output width differs from the dataset's class count.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, DigitDataLoader loader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        var classes = loader.Dataset.ClassCount;
        var device = DeviceOf(model);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var confusion = zeros(classes * classes, ScalarType.Int64, device);
            using var lossSum = zeros(1, ScalarType.Float64, device);
            foreach (var batch in loader.GetBatches(0))
            {
                using var scope = NewDisposeScope();
                using (batch)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var labels = batch.Labels.to(device);
                    var logits = model.call(batch.Images.to(device));
                    if (logits.dim() != 2 || logits.shape[1] != classes)
                    {
                        throw new ArgumentException(
                            $"The model returns logits of shape [{string.Join(", ", logits.shape)}] but the dataset has {classes} classes.",
                            nameof(model));
                    }

                    lossSum.add_(nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).to(ScalarType.Float64));
                    confusion.add_(bincount(labels.mul(classes).add_(logits.argmax(1)), minlength: classes * classes));
                }
            }

            using var countsOnCpu = confusion.cpu();
            using var lossOnCpu = lossSum.cpu();
            var counts = countsOnCpu.data<long>().ToArray();
            var matrix = Enumerable.Range(0, classes)
                .Select(t => (IReadOnlyList<int>)Enumerable.Range(0, classes).Select(p => checked((int)counts[(t * classes) + p])).ToArray())
                .ToArray();
            var total = checked((int)counts.Sum());
            var correct = Enumerable.Range(0, classes).Sum(c => matrix[c][c]);
            return new EvaluationResult(total, correct, lossOnCpu.item<double>() / total, matrix);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    internal static Device DeviceOf(nn.Module model) => model.parameters().FirstOrDefault()?.device ?? CPU;
}
