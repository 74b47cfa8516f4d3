namespace MnistCnn.Core.Training;

/// <summary>The outcome of <see cref="ITrainer.Fit"/>: one <see cref="EpochResult"/> per completed epoch.</summary>
/// <remarks>
/// Init-only properties rather than a positional record, so that a field added in a later version breaks no caller
/// (no constructor or <c>Deconstruct</c> changes shape).
/// </remarks>
public sealed record TrainingHistory
{
    /// <summary>The completed epochs in order, including those of a resumed checkpoint.</summary>
    public required IReadOnlyList<EpochResult> Epochs { get; init; }

    /// <summary>The device the model was trained on, e.g. <c>cpu</c> or <c>cuda:0</c>.</summary>
    public required string Device { get; init; }

    /// <summary>Whether a callback ended the run before the configured number of epochs.</summary>
    public required bool StoppedEarly { get; init; }

    /// <summary>Gets the last epoch's result, or <see langword="null"/> when no epoch completed.</summary>
    public EpochResult? Last => Epochs.Count > 0 ? Epochs[^1] : null;
}
