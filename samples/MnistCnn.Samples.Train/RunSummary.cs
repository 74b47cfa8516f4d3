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
    ClassMetrics Metrics)
{
    /// <summary>Gets the data set's name: MNIST, Fashion-MNIST or KMNIST.</summary>
    public string Dataset { get; init; } = "MNIST";

    /// <summary>Gets the seconds spent training alone in this process: the epochs' training time, validation excluded.</summary>
    public double TrainingOnlySeconds { get; init; }

    /// <summary>Gets the name of each class, indexed by label (the metrics' order).</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];
}
