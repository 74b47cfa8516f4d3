namespace MnistCnn.Core.Training;

/// <summary>What one training epoch measured.</summary>
/// <param name="Epoch">The epoch's number, starting at 1.</param>
/// <param name="LearningRate">The learning rate of the epoch's first batch: the epoch's rate, unless a per-batch scheduler (<see cref="OneCycleScheduler"/>) changes it before every batch.</param>
/// <param name="TrainLossMean">The mean of the epoch's batch losses.</param>
/// <param name="TrainLossLast">The loss of the epoch's last batch.</param>
/// <param name="ValidationLoss">The mean cross-entropy over the validation set, or <see langword="null"/> without a validation loader.</param>
/// <param name="ValidationAccuracy">The validation accuracy in percent, or <see langword="null"/> without a validation loader.</param>
/// <param name="TrainDuration">The time spent training (without validation).</param>
/// <param name="ValidationDuration">The time spent validating (zero without a validation loader).</param>
/// <param name="ImagesPerSecond">Training throughput: images trained on divided by <paramref name="TrainDuration"/>.</param>
public sealed record EpochResult(
    int Epoch,
    double LearningRate,
    double TrainLossMean,
    double TrainLossLast,
    double? ValidationLoss,
    double? ValidationAccuracy,
    TimeSpan TrainDuration,
    TimeSpan ValidationDuration,
    double ImagesPerSecond);
