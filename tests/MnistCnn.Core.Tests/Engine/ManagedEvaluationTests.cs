using MnistCnn.Core.Engine;
using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Engine;

/// <summary><see cref="Validator"/>'s managed path for ConvNet and LeNet gives the results of its torch path.</summary>
[Collection(TorchGlobalState.Name)]
public sealed class ManagedEvaluationTests
{
    [Theory]
    [InlineData("ConvNet", 64)]
    [InlineData("ConvNet", 7)]
    [InlineData("LeNet", 64)]
    [InlineData("LeNet", 7)]
    public void Evaluate_ManagedAndTorchPaths_GiveTheSameCountsAndLoss(string architecture, int batchSize)
    {
        using var train = LearnableDigits.Make(256, seed: 1);
        using var test = LearnableDigits.Make(203, seed: 2);
        using nn.Module<Tensor, Tensor> model = architecture == "LeNet" ? new LeNet(seed: 3) : new ConvNet(seed: 3);
        new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 1 }).Fit(model, new DigitDataLoader(train));
        var loader = new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = batchSize });
        ManagedEvaluation.TryCreate(model, 10).Should().NotBeNull("the first evaluation takes the managed path");

        var managed = Validator.Evaluate(model, loader);
        model.register_forward_hook((module, input, output) => output); // a hook keeps the model on torch's path
        ManagedEvaluation.TryCreate(model, 10).Should().BeNull();
        var torch = Validator.Evaluate(model, loader);

        managed.Count.Should().Be(203);
        managed.Correct.Should().Be(torch.Correct);
        managed.ConfusionMatrix.Should().BeEquivalentTo(torch.ConfusionMatrix, o => o.WithStrictOrdering());
        (Math.Abs(managed.Loss - torch.Loss) / torch.Loss).Should().BeLessThan(1e-5);
        managed.LabelRankCounts.Should().Equal(torch.LabelRankCounts);
    }

    [Fact]
    public void Evaluate_LabelRanks_AreTheLogitsRanksOfEveryLabel()
    {
        using var train = LearnableDigits.Make(256, seed: 1);
        using var test = LearnableDigits.Make(150, seed: 4);
        using var model = new ConvNet(seed: 5);
        new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 1 }).Fit(model, new DigitDataLoader(train));

        var result = Validator.Evaluate(model, new DigitDataLoader(test));

        // Independently: the logits of all images at once, and for each the number of logits above its label's.
        using var scope = NewDisposeScope();
        using var batch = test.GetBatch(0, test.Count);
        model.eval();
        float[] logits;
        using (no_grad())
        {
            logits = model.call(batch.Images).data<float>().ToArray();
        }

        var labels = batch.Labels.data<long>().ToArray();
        var expected = new int[10];
        for (var n = 0; n < test.Count; n++)
        {
            var row = logits.AsSpan(n * 10, 10);
            var target = row[(int)labels[n]];
            var rank = 0;
            foreach (var z in row)
            {
                rank += z > target ? 1 : 0;
            }

            expected[rank]++;
        }

        result.LabelRankCounts.Should().Equal(expected);
        result.TopKAccuracy(1).Should().BeApproximately(result.Accuracy, 1e-12, "no two highest logits tie here");
        result.TopKAccuracy(3).Should().BeGreaterThanOrEqualTo(result.TopKAccuracy(2)).And.BeGreaterThanOrEqualTo(result.TopKAccuracy(1));
        result.TopKAccuracy(10).Should().Be(100.0);
    }

    [Fact]
    public void TryCreate_OtherClassCount_IsNull()
    {
        using var model = new ConvNet(seed: 1);

        ManagedEvaluation.TryCreate(model, 9).Should().BeNull();
    }
}
