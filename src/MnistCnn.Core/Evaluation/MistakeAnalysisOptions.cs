namespace MnistCnn.Core.Evaluation;

/// <summary>Options of <see cref="MistakeAnalysis.Analyze"/>.</summary>
/// <remarks>Every setter validates its value and throws <see cref="ArgumentOutOfRangeException"/> when it is out of range.</remarks>
public sealed record MistakeAnalysisOptions
{
    private readonly int _topLosses = 16;
    private readonly int _confusedPairs = 10;
    private readonly int _minimumPairCount = 1;
    private readonly int _batchSize = 1000;

    /// <summary>Gets how many of the images with the highest loss to report. Default: 16. From 0 to 10,000.</summary>
    public int TopLosses
    {
        get => _topLosses;
        init => _topLosses = value is >= 0 and <= 10_000
            ? value
            : throw new ArgumentOutOfRangeException(nameof(TopLosses), value, "TopLosses must be from 0 to 10,000.");
    }

    /// <summary>Gets how many of the most confused (label, prediction) pairs to report. Default: 10. At least 0.</summary>
    public int ConfusedPairs
    {
        get => _confusedPairs;
        init => _confusedPairs = value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(ConfusedPairs), value, "ConfusedPairs must be at least 0.");
    }

    /// <summary>Gets how many images a pair must have to be reported (fastai's <c>min_val</c>). Default: 1. At least 1.</summary>
    public int MinimumPairCount
    {
        get => _minimumPairCount;
        init => _minimumPairCount = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MinimumPairCount), value, "MinimumPairCount must be at least 1.");
    }

    /// <summary>Gets how many images go through the model at once. Default: 1000. At least 1.</summary>
    public int BatchSize
    {
        get => _batchSize;
        init => _batchSize = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "BatchSize must be at least 1.");
    }
}
