using MnistCnn.Core.Data;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>Trains a classifier over a training loader, validating once per epoch.</summary>
public interface ITrainer
{
    /// <summary>
    /// Trains <paramref name="model"/> for the configured number of epochs: every epoch runs one optimizer step
    /// per training batch, then evaluates the whole validation loader once.
    /// </summary>
    /// <param name="model">A classifier returning logits <c>[N, ClassCount]</c>; moved to the training device and updated in place.</param>
    /// <param name="trainLoader">The training batches.</param>
    /// <param name="valLoader">The validation batches, or <see langword="null"/> to skip validation.</param>
    /// <param name="progress">Receives a report after every batch and every epoch; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>One result per completed epoch.</returns>
    TrainingHistory Fit(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default);
}
