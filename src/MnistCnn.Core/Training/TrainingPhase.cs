namespace MnistCnn.Core.Training;

/// <summary>What a <see cref="TrainingProgress"/> report is about.</summary>
public enum TrainingPhase
{
    /// <summary>A training batch completed.</summary>
    TrainingBatch,

    /// <summary>Validation of an epoch started.</summary>
    Validating,

    /// <summary>An epoch completed, including its validation.</summary>
    EpochCompleted,
}
