namespace MnistCnn.Core.Evaluation;

/// <summary>What <see cref="Validator"/> measured over a whole loader.</summary>
/// <remarks>
/// Init-only properties rather than a positional record, so that a field added in a later version breaks no caller
/// (no constructor or <c>Deconstruct</c> changes shape).
/// </remarks>
public sealed record EvaluationResult
{
    /// <summary>The number of images evaluated.</summary>
    public required int Count { get; init; }

    /// <summary>The number of images whose highest logit is their label.</summary>
    public required int Correct { get; init; }

    /// <summary>The mean cross-entropy over all images.</summary>
    public required double Loss { get; init; }

    /// <summary>Counts indexed [true label][predicted label].</summary>
    public required IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix { get; init; }

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

    /// <summary>
    /// Gets, indexed by rank, how many images had their label's logit at that rank among their logits (0: the
    /// highest; ties count in the label's favour; a NaN label logit ranks last). <see cref="Validator"/> fills it;
    /// empty for a result made without it.
    /// </summary>
    public IReadOnlyList<int> LabelRankCounts { get; init; } = [];

    /// <summary>
    /// Gets the top-k accuracy in percent: the share of images whose label is among their <paramref name="k"/>
    /// highest logits (ties count in the label's favour, so top-1 can exceed <see cref="Accuracy"/> by the images
    /// whose highest logit is tied).
    /// </summary>
    /// <param name="k">How many of the highest logits count; 1 to <see cref="ClassCount"/>.</param>
    /// <returns>100 × (images whose label ranks below <paramref name="k"/>) / <see cref="Count"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1 or above <see cref="ClassCount"/>.</exception>
    /// <exception cref="InvalidOperationException">The result holds no <see cref="LabelRankCounts"/>.</exception>
    public double TopKAccuracy(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, ClassCount);
        if (LabelRankCounts.Count == 0)
        {
            throw new InvalidOperationException("This result holds no label ranks (LabelRankCounts); Validator.Evaluate records them.");
        }

        return 100.0 * LabelRankCounts.Take(k).Sum() / Count;
    }

    /// <summary>
    /// Gets each class's precision (0 to 1), indexed by label: of the images predicted as the class, the share
    /// that are that class. 0 for a class never predicted (scikit-learn's <c>zero_division=0</c>).
    /// </summary>
    public IReadOnlyList<double> Precision =>
        Enumerable.Range(0, ClassCount).Select(c => Ratio(ConfusionMatrix[c][c], PredictedCount(c))).ToArray();

    /// <summary>
    /// Gets each class's recall (0 to 1), indexed by label: of the images of the class, the share predicted as it.
    /// 0 for a class with no image in the evaluated set (scikit-learn's <c>zero_division=0</c>).
    /// </summary>
    public IReadOnlyList<double> Recall =>
        Enumerable.Range(0, ClassCount).Select(c => Ratio(ConfusionMatrix[c][c], ConfusionMatrix[c].Sum())).ToArray();

    /// <summary>
    /// Gets each class's F1 score (0 to 1), indexed by label: the harmonic mean of precision and recall,
    /// 2·TP / (2·TP + FP + FN); 0 for a class that is neither in the set nor predicted.
    /// </summary>
    public IReadOnlyList<double> F1 =>
        Enumerable.Range(0, ClassCount)
            .Select(c => Ratio(2 * ConfusionMatrix[c][c], ConfusionMatrix[c].Sum() + PredictedCount(c)))
            .ToArray();

    /// <summary>
    /// Gets the macro-averaged precision: the unweighted mean of <see cref="Precision"/> over the classes that occur
    /// as a label or a prediction (as scikit-learn's <c>precision_score(average="macro", zero_division=0)</c>).
    /// </summary>
    public double MacroPrecision => MacroAverage(Precision);

    /// <summary>Gets the macro-averaged recall, over the classes that occur as a label or a prediction (see <see cref="MacroPrecision"/>).</summary>
    public double MacroRecall => MacroAverage(Recall);

    /// <summary>Gets the macro-averaged F1 score: the mean of the per-class <see cref="F1"/> scores, over the classes
    /// that occur as a label or a prediction.</summary>
    public double MacroF1 => MacroAverage(F1);

    private int PredictedCount(int label) => ConfusionMatrix.Sum(row => row[label]);

    private static double Ratio(int numerator, int denominator) => denominator == 0 ? 0 : (double)numerator / denominator;

    private double MacroAverage(IReadOnlyList<double> perClass)
    {
        var present = Enumerable.Range(0, ClassCount).Where(c => ConfusionMatrix[c].Sum() + PredictedCount(c) > 0).ToArray();
        return present.Length == 0 ? double.NaN : present.Average(c => perClass[c]);
    }
}
