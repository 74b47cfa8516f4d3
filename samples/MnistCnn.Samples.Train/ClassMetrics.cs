using MnistCnn.Core.Evaluation;

namespace MnistCnn.Samples.Train;

/// <summary>
/// The final model's precision, recall and F1 per class (indexed by digit) and macro-averaged, its top-k accuracy
/// in percent (index k - 1) and its confusion matrix, for summary.json.
/// </summary>
internal sealed record ClassMetrics(
    IReadOnlyList<double> Precision,
    IReadOnlyList<double> Recall,
    IReadOnlyList<double> F1,
    double MacroPrecision,
    double MacroRecall,
    double MacroF1,
    IReadOnlyList<double> TopKAccuracy,
    IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix)
{
    public static ClassMetrics From(EvaluationResult result) =>
        new(
            result.Precision,
            result.Recall,
            result.F1,
            result.MacroPrecision,
            result.MacroRecall,
            result.MacroF1,
            Enumerable.Range(1, result.ClassCount).Select(result.TopKAccuracy).ToArray(),
            result.ConfusionMatrix);
}
