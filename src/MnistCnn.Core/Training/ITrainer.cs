using MnistCnn.Core.Data;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>Trains a classifier over a training loader, validating once per epoch.</summary>
/// <remarks>
/// <see cref="Trainer"/> implements it; <c>services.AddMnistCnn()</c> registers it, so applications can take an
/// <see cref="ITrainer"/> and tests can substitute one.
/// </remarks>
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

    /// <summary>
    /// Trains as <see cref="Fit"/> does, on a thread of its own so the caller's thread is never blocked by the
    /// torch work. Progress reports arrive on that thread.
    /// </summary>
    /// <param name="model">A classifier returning logits <c>[N, ClassCount]</c>; moved to the training device and
    /// updated in place. Do not use it until the task has ended.</param>
    /// <param name="trainLoader">The training batches.</param>
    /// <param name="valLoader">The validation batches, or <see langword="null"/> to skip validation.</param>
    /// <param name="progress">Receives a report after every batch and every epoch, on the training thread; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Checked before every batch; the task then ends as canceled.</param>
    /// <returns>One result per completed epoch. The task fails with the exceptions <see cref="Fit"/> throws.</returns>
    Task<TrainingHistory> FitAsync(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Trains as <see cref="FitAsync"/> does and yields every epoch's result as soon as the epoch (validation and
    /// checkpoint included) has ended, so an application can stream them (for instance as server-sent events).
    /// </summary>
    /// <remarks>
    /// Training runs ahead on its own thread and does not wait for the consumer. Leaving the enumeration early
    /// (<c>break</c>, an exception, disposal) stops the run before its next batch and waits until it has stopped,
    /// so the model is no longer being trained afterwards. A failed run throws its exception from the enumeration.
    /// </remarks>
    /// <param name="model">A classifier returning logits <c>[N, ClassCount]</c>; moved to the training device and updated in place.</param>
    /// <param name="trainLoader">The training batches.</param>
    /// <param name="valLoader">The validation batches, or <see langword="null"/> to skip validation.</param>
    /// <param name="cancellationToken">Checked before every batch; also the enumeration's token (<c>WithCancellation</c>).</param>
    /// <returns>The completed epochs, in order.</returns>
    IAsyncEnumerable<EpochResult> FitEpochsAsync(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader = null,
        CancellationToken cancellationToken = default);
}
