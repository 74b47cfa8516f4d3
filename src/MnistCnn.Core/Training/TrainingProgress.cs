namespace MnistCnn.Core.Training;

/// <summary>A progress report of <see cref="ITrainer.Fit"/>.</summary>
/// <remarks>
/// Init-only properties rather than a positional record, so that a field added in a later version breaks no caller
/// (no constructor or <c>Deconstruct</c> changes shape).
/// </remarks>
public sealed record TrainingProgress
{
    /// <summary>What happened.</summary>
    public required TrainingPhase Phase { get; init; }

    /// <summary>The current epoch, starting at 1.</summary>
    public required int Epoch { get; init; }

    /// <summary>The number of epochs the run is configured for.</summary>
    public required int EpochCount { get; init; }

    /// <summary>The number of training batches completed in this epoch.</summary>
    public required int Batch { get; init; }

    /// <summary>The number of training batches per epoch.</summary>
    public required int BatchCount { get; init; }

    /// <summary>The last batch's loss (for <see cref="TrainingPhase.TrainingBatch"/>), else the epoch's mean loss.</summary>
    public required double Loss { get; init; }

    /// <summary>The epoch's result, for <see cref="TrainingPhase.EpochCompleted"/>; otherwise <see langword="null"/>.</summary>
    public EpochResult? Result { get; init; }
}
