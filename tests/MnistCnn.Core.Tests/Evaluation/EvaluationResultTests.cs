using MnistCnn.Core.Evaluation;

namespace MnistCnn.Core.Tests.Evaluation;

public sealed class EvaluationResultTests
{
    // Rows: true label; columns: predicted. Class 0: 5 images, 4 right, 1 taken for 1; class 1: 3 images, 2 right,
    // 1 taken for 2; class 2: 2 images, both taken for 0; class 3: absent and never predicted.
    private static readonly EvaluationResult Result = new()
    {
        Count = 10,
        Correct = 6,
        Loss = 0.5,
        ConfusionMatrix = [[4, 1, 0, 0], [0, 2, 1, 0], [2, 0, 0, 0], [0, 0, 0, 0]],
    };

    [Fact]
    public void PrecisionRecallF1_SmallConfusionMatrix_AreTheCountsRatios()
    {
        // Predicted as 0: 6 (4 right); as 1: 3 (2 right); as 2: 1 (0 right); as 3: none.
        Result.Precision.Should().Equal(4.0 / 6, 2.0 / 3, 0.0, 0.0);
        Result.Recall.Should().Equal(4.0 / 5, 2.0 / 3, 0.0, 0.0);
        // 2TP / (2TP + FP + FN): class 0 8/(8+2+1), class 1 4/(4+1+1), class 2 0/(0+1+2).
        Result.F1.Should().Equal(8.0 / 11, 4.0 / 6, 0.0, 0.0);
    }

    [Fact]
    public void MacroAverages_ClassNeitherPresentNorPredicted_IsLeftOut()
    {
        Result.MacroPrecision.Should().BeApproximately(((4.0 / 6) + (2.0 / 3) + 0) / 3, 1e-15);
        Result.MacroRecall.Should().BeApproximately(((4.0 / 5) + (2.0 / 3) + 0) / 3, 1e-15);
        Result.MacroF1.Should().BeApproximately(((8.0 / 11) + (4.0 / 6) + 0) / 3, 1e-15);
    }

    [Fact]
    public void Metrics_PerfectPredictions_AreAllOne()
    {
        var perfect = new EvaluationResult { Count = 3, Correct = 3, Loss = 0.1, ConfusionMatrix = [[1, 0, 0], [0, 1, 0], [0, 0, 1]] };

        perfect.Precision.Should().AllBeEquivalentTo(1.0);
        perfect.Recall.Should().AllBeEquivalentTo(1.0);
        perfect.F1.Should().AllBeEquivalentTo(1.0);
        perfect.MacroF1.Should().Be(1.0);
        perfect.Accuracy.Should().Be(100.0);
    }

    [Fact]
    public void TopKAccuracy_RankCounts_IsTheShareRankedBelowK()
    {
        var result = Result with { LabelRankCounts = [6, 3, 1, 0] };

        result.TopKAccuracy(1).Should().Be(60.0);
        result.TopKAccuracy(2).Should().Be(90.0);
        result.TopKAccuracy(3).Should().Be(100.0);
        result.TopKAccuracy(4).Should().Be(100.0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void TopKAccuracy_KOutsideTheClasses_ThrowsArgumentOutOfRange(int top)
    {
        var act = () => (Result with { LabelRankCounts = [6, 3, 1, 0] }).TopKAccuracy(top);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
    }

    [Fact]
    public void TopKAccuracy_NoRanksRecorded_ThrowsInvalidOperation()
    {
        var act = () => Result.TopKAccuracy(1);

        act.Should().Throw<InvalidOperationException>().WithMessage("*LabelRankCounts*");
    }
}
