using MnistCnn.Core.Training;

namespace MnistCnn.Samples.Train;

/// <summary>What a run wrote to summary.json: its settings, per-epoch results, the final accuracy and the final model's per-class metrics.</summary>
internal sealed record RunSummary(
    string Device,
    int Epochs,
    int BatchSize,
    double LearningRate,
    long? Seed,
    bool Shuffle,
    bool Augment,
    double? FinalAccuracy,
    string ModelPath,
    IReadOnlyList<EpochResult> History,
    ClassMetrics Metrics);
