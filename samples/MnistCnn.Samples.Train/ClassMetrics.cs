using MnistCnn.Core.Evaluation;

namespace MnistCnn.Samples.Train;

/// <summary>The final model's precision, recall and F1 per class (indexed by digit) and macro-averaged, for summary.json.</summary>
internal sealed record ClassMetrics(
    IReadOnlyList<double> Precision,
    IReadOnlyList<double> Recall,
    IReadOnlyList<double> F1,
    double MacroPrecision,
    double MacroRecall,
    double MacroF1,
    IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix)
{
    public static ClassMetrics From(EvaluationResult result) =>
        new(result.Precision, result.Recall, result.F1, result.MacroPrecision, result.MacroRecall, result.MacroF1, result.ConfusionMatrix);
}
