namespace MnistCnn.Core.Training;

/// <summary>What one training epoch measured.</summary>
/// <remarks>
/// Init-only properties rather than a positional record, so that a field added in a later version breaks no caller
/// (no constructor or <c>Deconstruct</c> changes shape). The fields of 1.0 are required, so a checkpoint's history
/// missing one is refused as damaged; a field added later will not be required, so older checkpoints still load.
/// </remarks>
public sealed record EpochResult
{
    /// <summary>The epoch's number, starting at 1.</summary>
    public required int Epoch { get; init; }

    /// <summary>
    /// The learning rate of the epoch's first batch: the epoch's rate, unless a per-batch scheduler
    /// (<see cref="OneCycleScheduler"/>) changes it before every batch.
    /// </summary>
    public required double LearningRate { get; init; }

    /// <summary>The mean of the epoch's batch losses.</summary>
    public required double TrainLossMean { get; init; }

    /// <summary>The loss of the epoch's last batch.</summary>
    public required double TrainLossLast { get; init; }

    /// <summary>The mean cross-entropy over the validation set, or <see langword="null"/> without a validation loader.</summary>
    public required double? ValidationLoss { get; init; }

    /// <summary>The validation accuracy in percent, or <see langword="null"/> without a validation loader.</summary>
    public required double? ValidationAccuracy { get; init; }

    /// <summary>The time spent training (without validation).</summary>
    public required TimeSpan TrainDuration { get; init; }

    /// <summary>The time spent validating (zero without a validation loader).</summary>
    public required TimeSpan ValidationDuration { get; init; }

    /// <summary>Training throughput: images trained on divided by <see cref="TrainDuration"/>.</summary>
    public required double ImagesPerSecond { get; init; }
}
