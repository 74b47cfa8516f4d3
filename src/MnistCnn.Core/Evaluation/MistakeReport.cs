namespace MnistCnn.Core.Evaluation;

/// <summary>What a model gets wrong on a data set (<see cref="MistakeAnalysis.Analyze"/>).</summary>
public sealed record MistakeReport
{
    /// <summary>Gets how many images were examined: the whole data set.</summary>
    public required int ImageCount { get; init; }

    /// <summary>Gets how many of them the model predicts wrongly.</summary>
    public required int ErrorCount { get; init; }

    /// <summary>
    /// Gets the images with the highest loss, highest first (ties by index): the ones the model is most wrong about,
    /// usually wrongly predicted with high confidence; a correctly predicted image can appear when few are wrong.
    /// </summary>
    public required IReadOnlyList<HighLossImage> TopLosses { get; init; }

    /// <summary>Gets the most frequent wrong (label, prediction) pairs, most frequent first (ties by label, then prediction).</summary>
    public required IReadOnlyList<ConfusedPair> MostConfused { get; init; }

    /// <summary>Gets the data set's class names, indexed by class.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }
}
