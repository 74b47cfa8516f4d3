using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Evaluation;

/// <summary><see cref="Validator"/>'s managed path for ConvNet gives the results of its torch path.</summary>
[Collection(TorchGlobalState.Name)]
public sealed class ConvNetEvaluationTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(7)]
    public void Evaluate_ManagedAndTorchPaths_GiveTheSameCountsAndLoss(int batchSize)
    {
        using var train = LearnableDigits.Make(256, seed: 1);
        using var test = LearnableDigits.Make(203, seed: 2);
        using var model = new ConvNet(seed: 3);
        new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 1 }).Fit(model, new DigitDataLoader(train));
        var loader = new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = batchSize });
        ConvNetEvaluation.TryCreate(model, 10).Should().NotBeNull("the first evaluation takes the managed path");

        var managed = Validator.Evaluate(model, loader);
        model.register_forward_hook((module, input, output) => output); // a hook keeps the model on torch's path
        ConvNetEvaluation.TryCreate(model, 10).Should().BeNull();
        var torch = Validator.Evaluate(model, loader);

        managed.Count.Should().Be(203);
        managed.Correct.Should().Be(torch.Correct);
        managed.ConfusionMatrix.Should().BeEquivalentTo(torch.ConfusionMatrix, o => o.WithStrictOrdering());
        (Math.Abs(managed.Loss - torch.Loss) / torch.Loss).Should().BeLessThan(1e-5);
    }

    [Fact]
    public void TryCreate_OtherClassCount_IsNull()
    {
        using var model = new ConvNet(seed: 1);

        ConvNetEvaluation.TryCreate(model, 9).Should().BeNull();
    }
}
