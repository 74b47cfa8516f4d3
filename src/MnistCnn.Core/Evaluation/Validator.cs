using MnistCnn.Core.Data;
using MnistCnn.Core.Engine;
using MnistCnn.Core.Models;
using MnistCnn.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Evaluation;

/// <summary>
/// Measures a classifier over a whole loader: in evaluation mode, without gradients, on the model's device.
/// The model's previous training/evaluation mode is restored afterwards. Batches are placed on the model's
/// device; torch's global state (generator, thread count) is not changed.
/// </summary>
/// <remarks>
/// A <see cref="ConvNet"/> with float32 parameters on the CPU and no forward hooks is evaluated in managed
/// code (the forward pass <see cref="Inference.DigitClassifier"/> uses), on <c>torch.get_num_threads()</c>
/// threads; any other model through its <c>forward</c>. Both give the same logits to float32 rounding, so the
/// same counts except for an image whose two highest logits are within about 1e-6 of each other.
/// </remarks>
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
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process (no backend package, a C++
    /// runtime older than GCC 13's, ...); the message names the cause and the fix.</exception>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, DigitDataLoader loader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        TorchRuntime.EnsureAvailable();
        return Evaluate(model, loader.GetBatches(0, seed: 0, ClassifierCheck.DeviceOf(model), augment: false), loader.Dataset.ClassCount, cancellationToken);
    }

    /// <summary>
    /// Computes accuracy, mean loss, per-class accuracy and the confusion matrix over the images of
    /// <paramref name="loader"/>'s epoch 0, classified <paramref name="batchSize"/> at a time whatever the
    /// loader's own batch size.
    /// </summary>
    /// <remarks>
    /// Counts and accuracy are the same as with the loader's batches; the mean loss may differ in the last
    /// float32 digits, because the per-batch sums are grouped differently. Evaluation keeps no activations
    /// for a backward pass, so memory allows large batches, but for the case study's network on the CPU
    /// they are not necessarily faster (docs/performance.md has figures).
    /// </remarks>
    /// <param name="model">A classifier returning logits <c>[N, ClassCount]</c>.</param>
    /// <param name="loader">The images to classify: those of its epoch 0 (all of them unless it drops the last batch).</param>
    /// <param name="batchSize">The number of images per forward pass; at least 1.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The evaluation.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">The model's output width differs from the dataset's class count.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process (no backend package, a C++
    /// runtime older than GCC 13's, ...); the message names the cause and the fix.</exception>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, DigitDataLoader loader, int batchSize,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        TorchRuntime.EnsureAvailable();
        return Evaluate(
            model, loader.GetBatches(0, seed: 0, ClassifierCheck.DeviceOf(model), augment: false, batchSize), loader.Dataset.ClassCount, cancellationToken);
    }

    private static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, IEnumerable<DigitBatch> batches, int classes, CancellationToken cancellationToken)
    {
        var device = ClassifierCheck.DeviceOf(model);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var confusion = zeros(classes * classes, ScalarType.Int64, device);
            using var lossSum = zeros(1, ScalarType.Float64, device);
            var managed = ManagedEvaluation.TryCreate(model, classes);
            var managedConfusion = new long[classes * classes];
            var managedRanks = new long[classes];
            using var rankCounts = zeros(classes, ScalarType.Int64, device);
            var managedLoss = 0.0;
            var first = true;
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                using (batch)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (managed is not null && ManagedEvaluation.Accepts(batch.Images, batch.Labels))
                    {
                        managedLoss += managed.Add(batch.Images, batch.Labels, managedConfusion, managedRanks);
                        first = false;
                        continue;
                    }

                    var labels = batch.Labels.to(device);
                    var logits = model.call(batch.Images.to(device));
                    if (first)
                    {
                        ClassifierCheck.EnsureLogits(logits, classes, nameof(model));
                        first = false;
                    }


                    lossSum.add_(nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).to(ScalarType.Float64));
                    confusion.add_(bincount(labels.mul(classes).add_(logits.argmax(1)), minlength: classes * classes));
                    rankCounts.add_(bincount(LabelRanks(logits, labels, classes), minlength: classes));
                }
            }

            using var countsOnCpu = confusion.cpu();
            using var lossOnCpu = lossSum.cpu();
            var counts = countsOnCpu.data<long>().ToArray();
            for (var i = 0; i < counts.Length; i++)
            {
                counts[i] += managedConfusion[i];
            }

            var matrix = Enumerable.Range(0, classes)
                .Select(t => (IReadOnlyList<int>)Enumerable.Range(0, classes).Select(p => checked((int)counts[(t * classes) + p])).ToArray())
                .ToArray();
            using var ranksOnCpu = rankCounts.cpu();
            var labelRanks = ranksOnCpu.data<long>().ToArray().Select((n, rank) => checked((int)(n + managedRanks[rank]))).ToArray();
            var total = checked((int)counts.Sum());
            var correct = Enumerable.Range(0, classes).Sum(c => matrix[c][c]);
            return new EvaluationResult
            {
                Count = total,
                Correct = correct,
                Loss = (lossOnCpu.item<double>() + managedLoss) / total,
                ConfusionMatrix = matrix,
                LabelRankCounts = labelRanks,
            };
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    // The rank of each label's logit among its image's logits (Loss.LabelRank), for a batch in torch: [N] int64 ranks.
    private static Tensor LabelRanks(Tensor logits, Tensor labels, int classes)
    {
        var target = logits.gather(1, labels.unsqueeze(1));
        var ranks = logits.gt(target).sum(1, type: ScalarType.Int64);
        return where(target.squeeze(1).isnan(), tensor((long)(classes - 1), device: ranks.device), ranks);
    }
}
