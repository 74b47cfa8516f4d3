using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Evaluation;

/// <summary>
/// <see cref="MistakeAnalysis"/> against what torch computes directly (per-image cross-entropy, softmax) and against
/// <see cref="Validator"/>'s confusion matrix, on synthetic data with a briefly trained network, so some images are
/// wrong and some are right.
/// </summary>
[Collection(TorchGlobalState.Name)]
public sealed class MistakeAnalysisTests
{
    [Fact]
    public void Analyze_BrieflyTrainedModel_MatchesTorchAndTheConfusionMatrix()
    {
        using var data = LearnableDigits.Make(300, seed: 4);
        using var model = TrainedBriefly(data);

        var report = MistakeAnalysis.Analyze(model, data, new MistakeAnalysisOptions { TopLosses = 12, ConfusedPairs = 5 });

        var evaluation = Validator.Evaluate(model, new DigitDataLoader(data));
        report.ImageCount.Should().Be(300);
        report.ErrorCount.Should().Be(evaluation.Count - evaluation.Correct);
        report.ErrorCount.Should().BeInRange(1, 299, "the test needs both right and wrong predictions");
        report.ClassNames.Should().Equal(data.ClassNames);

        var (losses, probabilities) = TorchLossesAndProbabilities(model, data);
        report.TopLosses.Should().HaveCount(12);
        report.TopLosses.Select(t => t.Loss).Should().BeInDescendingOrder();
        var twelfth = report.TopLosses[^1].Loss;
        var chosen = report.TopLosses.Select(t => t.Index).ToHashSet();
        Enumerable.Range(0, 300).Where(i => !chosen.Contains(i)).Should().OnlyContain(i => losses[i] <= twelfth + 1e-5, "no image left out has a higher loss");
        foreach (var top in report.TopLosses)
        {
            var row = probabilities[top.Index];
            top.Label.Should().Be(data.GetLabel(top.Index));
            top.Loss.Should().BeApproximately(losses[top.Index], 1e-4 * Math.Max(1, losses[top.Index]));
            top.Predicted.Should().Be(Array.IndexOf(row, row.Max()));
            top.Confidence.Should().BeApproximately(row.Max(), 1e-5);
            top.LabelProbability.Should().BeApproximately(row[top.Label], 1e-5);
            using var batch = data.GetBatch(top.Index, 1);
            top.Pixels.Should().Equal(batch.Images.data<float>().ToArray());
            (top.Height, top.Width).Should().Be((28, 28));
        }

        var expectedPairs = Enumerable.Range(0, 10)
            .SelectMany(label => Enumerable.Range(0, 10).Where(p => p != label && evaluation.ConfusionMatrix[label][p] > 0)
                .Select(p => (Label: label, Predicted: p, Count: evaluation.ConfusionMatrix[label][p])))
            .OrderByDescending(p => p.Count).ThenBy(p => p.Label).ThenBy(p => p.Predicted)
            .Take(5)
            .ToList();
        report.MostConfused.Select(p => (p.Label, p.Predicted, p.Count)).Should().Equal(expectedPairs);
    }

    [Fact]
    public void Analyze_AnyBatchSize_GivesTheSameReport()
    {
        using var data = LearnableDigits.Make(100, seed: 6);
        using var model = new LeNet(seed: 2);

        var whole = MistakeAnalysis.Analyze(model, data, new MistakeAnalysisOptions { TopLosses = 10 });
        var sevens = MistakeAnalysis.Analyze(model, data, new MistakeAnalysisOptions { TopLosses = 10, BatchSize = 7 });

        sevens.TopLosses.Select(t => (t.Index, t.Label, t.Predicted)).Should().Equal(whole.TopLosses.Select(t => (t.Index, t.Label, t.Predicted)));
        sevens.MostConfused.Should().Equal(whole.MostConfused);
        sevens.ErrorCount.Should().Be(whole.ErrorCount);
    }

    [Fact]
    public void Analyze_ModelInTrainingMode_IsLeftInTrainingMode()
    {
        using var data = LearnableDigits.Make(20);
        using var model = new ConvNet(seed: 0);
        model.train();

        MistakeAnalysis.Analyze(model, data);

        model.training.Should().BeTrue();
    }

    [Fact]
    public void Analyze_MinimumPairCount_LeavesOutRarerPairs()
    {
        using var data = LearnableDigits.Make(200, seed: 8);
        using var model = new ConvNet(seed: 5);

        var report = MistakeAnalysis.Analyze(model, data, new MistakeAnalysisOptions { ConfusedPairs = 100, MinimumPairCount = 3 });

        report.MostConfused.Should().NotBeEmpty("an untrained network confuses many pairs").And.OnlyContain(p => p.Count >= 3 && p.Label != p.Predicted);
    }

    [Fact]
    public void Analyze_BadArguments_Throw()
    {
        using var data = LearnableDigits.Make(10);
        using var model = new ConvNet(seed: 0);
        using var wide = new WideNet(classes: 12);

        FluentActions.Invoking(() => MistakeAnalysis.Analyze(null!, data)).Should().Throw<ArgumentNullException>().WithParameterName("model");
        FluentActions.Invoking(() => MistakeAnalysis.Analyze(model, null!)).Should().Throw<ArgumentNullException>().WithParameterName("dataset");
        FluentActions.Invoking(() => MistakeAnalysis.Analyze(wide, data)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new MistakeAnalysisOptions { TopLosses = -1 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("TopLosses");
        FluentActions.Invoking(() => new MistakeAnalysisOptions { BatchSize = 0 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("BatchSize");
        FluentActions.Invoking(() => new MistakeAnalysisOptions { MinimumPairCount = 0 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("MinimumPairCount");
        FluentActions.Invoking(() => new MistakeAnalysisOptions { ConfusedPairs = -1 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("ConfusedPairs");
    }

    private static ConvNet TrainedBriefly(DigitDataset data)
    {
        var model = new ConvNet(seed: 0);
        new Trainer(new TrainerOptions { Epochs = 1, Device = TrainingDevice.Cpu, LearningRate = 0.003 }).Fit(model, new DigitDataLoader(data, new DigitDataLoaderOptions { BatchSize = 32 }));
        return model;
    }

    private static (double[] Losses, double[][] Probabilities) TorchLossesAndProbabilities(ConvNet model, DigitDataset data)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        using var batch = data.GetBatch(0, data.Count);
        var logits = model.call(batch.Images).to(ScalarType.Float64);
        var losses = nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.None).data<double>().ToArray();
        var probabilities = nn.functional.softmax(logits, 1);
        var rows = Enumerable.Range(0, data.Count).Select(i => probabilities[i].data<double>().ToArray()).ToArray();
        return (losses, rows);
    }
}
