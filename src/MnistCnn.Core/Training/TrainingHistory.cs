namespace MnistCnn.Core.Training;

/// <summary>The outcome of <see cref="ITrainer.Fit"/>: one <see cref="EpochResult"/> per completed epoch.</summary>
/// <param name="Epochs">The completed epochs in order, including those of a resumed checkpoint.</param>
/// <param name="Device">The device the model was trained on, e.g. <c>cpu</c> or <c>cuda:0</c>.</param>
/// <param name="StoppedEarly">Whether a callback ended the run before the configured number of epochs.</param>
public sealed record TrainingHistory(IReadOnlyList<EpochResult> Epochs, string Device, bool StoppedEarly)
{
    /// <summary>Gets the last epoch's result, or <see langword="null"/> when no epoch completed.</summary>
    public EpochResult? Last => Epochs.Count > 0 ? Epochs[^1] : null;
}
