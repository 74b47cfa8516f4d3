using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Training;

[Collection(TorchGlobalState.Name)]
public sealed class LearningRateFinderTests
{
    private static readonly TrainerOptions Cpu = new() { Device = TrainingDevice.Cpu, Seed = 3 };

    [Fact]
    public void Find_LearnableData_SweepsExponentiallyAndRestoresTheModelBitForBit()
    {
        // A linear classifier learns the squares within a few steps at a good rate (the sigmoid ConvNet needs hundreds).
        using var data = LearnableDigits.Make(640);
        using var model = new WideNet(classes: 10);
        var before = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        model.eval();
        var finder = new LearningRateFinder(Cpu, new LearningRateFinderOptions { StartLearningRate = 1e-5, EndLearningRate = 1, Steps = 40 });

        var result = finder.Find(model, new DigitDataLoader(data, new DigitDataLoaderOptions { BatchSize = 32, Shuffle = true }));

        foreach (var (name, tensor) in model.state_dict())
        {
            tensor.allclose(before[name], rtol: 0, atol: 0).Should().BeTrue($"{name} is restored bit for bit");
        }

        model.training.Should().BeFalse("the model was in evaluation mode before the sweep");
        foreach (var parameter in model.parameters())
        {
            (parameter.grad is null || parameter.grad.count_nonzero().item<long>() == 0).Should().BeTrue("the sweep's gradients are cleared");
        }

        result.Points.Select(p => p.Step).Should().Equal(Enumerable.Range(1, result.Points.Count));
        result.Points[0].LearningRate.Should().Be(1e-5);
        if (!result.Diverged)
        {
            result.Points.Should().HaveCount(40);
            result.Points[^1].LearningRate.Should().BeApproximately(1, 1e-9);
        }

        for (var i = 1; i < result.Points.Count; i++)
        {
            (result.Points[i].LearningRate / result.Points[i - 1].LearningRate).Should().BeApproximately(Math.Pow(1e5, 1.0 / 39), 1e-9);
        }

        result.Points.Min(p => p.SmoothedLoss).Should().BeLessThan(result.Points[0].SmoothedLoss, "the loss falls somewhere in the sweep on learnable data: " + string.Join(" ", result.Points.Select(p => $"{p.LearningRate:G2}:{p.Loss:F3}/{p.SmoothedLoss:F3}")));
        result.SuggestedLearningRate.Should().BeInRange(1e-5, result.MinimumLossLearningRate);
    }

    [Fact]
    public void Find_HugeRates_StopsAsDivergedAndRestoresTheModel()
    {
        using var data = LearnableDigits.Make(320);
        using var model = new ConvNet(seed: 1);
        using var untouched = new ConvNet(seed: 1);
        var finder = new LearningRateFinder(Cpu, new LearningRateFinderOptions { StartLearningRate = 1e-3, EndLearningRate = 1e6, Steps = 60 });

        var result = finder.Find(model, new DigitDataLoader(data, new DigitDataLoaderOptions { BatchSize = 32 }));

        result.Diverged.Should().BeTrue();
        result.Points.Count.Should().BeLessThan(60);
        result.Points.Should().OnlyContain(p => double.IsFinite(p.Loss));
        Weights.AssertIdentical(model, untouched);
        model.training.Should().BeTrue();
    }

    [Fact]
    public void Find_Cancelled_ThrowsAndRestoresTheModel()
    {
        using var data = LearnableDigits.Make(320);
        using var model = new ConvNet(seed: 2);
        using var untouched = new ConvNet(seed: 2);
        using var cancellation = new CancellationTokenSource();
        var steps = 0;
        var progress = new SynchronousProgress<LearningRatePoint>(_ =>
        {
            if (++steps == 5)
            {
                cancellation.Cancel();
            }
        });

        var act = () => new LearningRateFinder(Cpu).Find(model, new DigitDataLoader(data), progress, cancellation.Token);

        act.Should().Throw<OperationCanceledException>();
        steps.Should().Be(5);
        Weights.AssertIdentical(model, untouched);
    }

    [Fact]
    public void Find_WithAThreadCount_LeavesTorchsThreadCountAsItWas()
    {
        using var data = LearnableDigits.Make(128);
        using var model = new ConvNet(seed: 0);
        var before = get_num_threads();

        new LearningRateFinder(Cpu with { Threads = before == 1 ? 2 : 1 }, new LearningRateFinderOptions { Steps = 5 })
            .Find(model, new DigitDataLoader(data));

        get_num_threads().Should().Be(before);
    }

    [Fact]
    public void Suggest_CurveWithAValley_PicksTheSteepestDescentBeforeTheMinimum()
    {
        double[] smoothed = [5, 5, 5, 5, 4.9, 4, 2, 1, 0.9, 0.95, 3];
        var points = smoothed.Select((loss, i) => new LearningRatePoint { Step = i + 1, LearningRate = Math.Pow(10, i - 7), Loss = loss, SmoothedLoss = loss }).ToList();

        var (suggested, atMinimum) = LearningRateFinder.Suggest(points);

        // Central differences over equal log steps: 4 -> 1 around 1e-1 is the steepest fall (-3), before the minimum at 1e1.
        suggested.Should().BeApproximately(1e-1, 1e-15);
        atMinimum.Should().BeApproximately(1e1, 1e-12);
    }

    [Fact]
    public void Suggest_LossOnlyRises_FallsBackToATenthOfTheMinimum()
    {
        var points = Enumerable.Range(0, 20).Select(i => new LearningRatePoint { Step = i + 1, LearningRate = Math.Pow(2, i), Loss = i, SmoothedLoss = i }).ToList();

        var (suggested, atMinimum) = LearningRateFinder.Suggest(points);

        atMinimum.Should().Be(1);
        suggested.Should().Be(0.1);
    }

    [Fact]
    public void Options_OutOfRange_ThrowNamingTheSetting()
    {
        FluentActions.Invoking(() => new LearningRateFinderOptions { Steps = 4 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Steps");
        FluentActions.Invoking(() => new LearningRateFinderOptions { StartLearningRate = 0 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("StartLearningRate");
        FluentActions.Invoking(() => new LearningRateFinderOptions { EndLearningRate = double.PositiveInfinity }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("EndLearningRate");
        FluentActions.Invoking(() => new LearningRateFinderOptions { Smoothing = 1 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Smoothing");
        FluentActions.Invoking(() => new LearningRateFinderOptions { DivergenceFactor = 1 }).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("DivergenceFactor");
        FluentActions.Invoking(() => new LearningRateFinder(options: new LearningRateFinderOptions { StartLearningRate = 1, EndLearningRate = 0.5 }))
            .Should().Throw<ArgumentException>().WithParameterName("options");
    }

    [Fact]
    public void Find_NullArguments_Throw()
    {
        using var data = LearnableDigits.Make(16);
        using var model = new ConvNet(seed: 0);
        var finder = new LearningRateFinder(Cpu);

        FluentActions.Invoking(() => finder.Find(null!, new DigitDataLoader(data))).Should().Throw<ArgumentNullException>().WithParameterName("model");
        FluentActions.Invoking(() => finder.Find(model, null!)).Should().Throw<ArgumentNullException>().WithParameterName("trainLoader");
    }
}
