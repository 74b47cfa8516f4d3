namespace MnistCnn.Core.Evaluation;

/// <summary>What <see cref="Validator"/> measured over a whole loader.</summary>
/// <param name="Count">The number of images evaluated.</param>
/// <param name="Correct">The number of images whose highest logit is their label.</param>
/// <param name="Loss">The mean cross-entropy over all images.</param>
/// <param name="ConfusionMatrix">Counts indexed [true label][predicted label].</param>
public sealed record EvaluationResult(int Count, int Correct, double Loss, IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix)
{
    /// <summary>Gets the accuracy in percent: 100 * <see cref="Correct"/> / <see cref="Count"/>.</summary>
    public double Accuracy => 100.0 * Correct / Count;

    /// <summary>Gets the number of classes.</summary>
    public int ClassCount => ConfusionMatrix.Count;

    /// <summary>
    /// Gets the accuracy in percent of each class (its recall), indexed by label; <see cref="double.NaN"/> for a
    /// class with no image in the evaluated set.
    /// </summary>
    public IReadOnlyList<double> PerClassAccuracy =>
        ConfusionMatrix.Select((row, label) => row.Sum() is var total and > 0 ? 100.0 * row[label] / total : double.NaN).ToArray();
}
