using MnistCnn.Core.Training;

namespace MnistCnn.Samples.Train;

/// <summary>
/// What a run wrote to summary.json: its settings, per-epoch results, the final accuracy, the wall time of training
/// and validation in this process, and the final model's per-class metrics.
/// </summary>
internal sealed record RunSummary(
    string Device,
    string Preset,
    string Model,
    int Epochs,
    int BatchSize,
    double LearningRate,
    long? Seed,
    bool Shuffle,
    bool Augment,
    double? FinalAccuracy,
    double TrainingSeconds,
    string ModelPath,
    IReadOnlyList<EpochResult> History,
    ClassMetrics Metrics);
