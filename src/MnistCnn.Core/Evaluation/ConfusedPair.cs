namespace MnistCnn.Core.Evaluation;

/// <summary>A (label, prediction) pair the model confuses, and how often (<see cref="MistakeReport.MostConfused"/>).</summary>
public sealed record ConfusedPair
{
    /// <summary>Gets the true class.</summary>
    public required int Label { get; init; }

    /// <summary>Gets the class predicted instead.</summary>
    public required int Predicted { get; init; }

    /// <summary>Gets how many images of <see cref="Label"/> were predicted as <see cref="Predicted"/>.</summary>
    public required int Count { get; init; }
}
