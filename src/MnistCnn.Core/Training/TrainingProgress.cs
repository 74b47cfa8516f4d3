namespace MnistCnn.Core.Training;

/// <summary>A progress report of <see cref="ITrainer.Fit"/>.</summary>
/// <param name="Phase">What happened.</param>
/// <param name="Epoch">The current epoch, starting at 1.</param>
/// <param name="EpochCount">The number of epochs the run is configured for.</param>
/// <param name="Batch">The number of training batches completed in this epoch.</param>
/// <param name="BatchCount">The number of training batches per epoch.</param>
/// <param name="Loss">The last batch's loss (for <see cref="TrainingPhase.TrainingBatch"/>), else the epoch's mean loss.</param>
/// <param name="Result">The epoch's result, for <see cref="TrainingPhase.EpochCompleted"/>; otherwise <see langword="null"/>.</param>
public sealed record TrainingProgress(
    TrainingPhase Phase,
    int Epoch,
    int EpochCount,
    int Batch,
    int BatchCount,
    double Loss,
    EpochResult? Result);
