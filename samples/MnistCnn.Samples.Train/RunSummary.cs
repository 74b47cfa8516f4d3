using MnistCnn.Core.Training;

namespace MnistCnn.Samples.Train;

/// <summary>What a run wrote to summary.json: its settings, per-epoch results and the final accuracy.</summary>
internal sealed record RunSummary(
    string Device,
    int Epochs,
    int BatchSize,
    double LearningRate,
    long? Seed,
    bool Shuffle,
    double? FinalAccuracy,
    string ModelPath,
    IReadOnlyList<EpochResult> History);
