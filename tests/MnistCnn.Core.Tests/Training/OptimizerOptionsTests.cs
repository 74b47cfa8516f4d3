using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.Tests.Training;

/// <summary>Invalid optimizer, scheduler and clipping options are refused, naming the argument.</summary>
public sealed class OptimizerOptionsTests
{
    [Fact]
    public void Defaults_AreTheCaseStudysAdamWithoutSchedulerOrClipping()
    {
        var options = new TrainerOptions();

        options.Optimizer.Should().Be(TrainingOptimizer.Adam);
        options.LearningRateScheduler.Should().BeNull();
        options.GradientClipNorm.Should().BeNull();
        options.Momentum.Should().Be(0.9);
        options.Nesterov.Should().BeFalse();
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Momentum_OutOfRange_ThrowsNamingIt(double value)
    {
        var act = () => new TrainerOptions { Momentum = value };

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Momentum");
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void LabelSmoothing_OutOfRange_ThrowsNamingIt(double value)
    {
        var act = () => new TrainerOptions { LabelSmoothing = value };

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("LabelSmoothing");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void GradientClipNorm_NotPositiveOrNotFinite_ThrowsNamingIt(double value)
    {
        var act = () => new TrainerOptions { GradientClipNorm = value };

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("GradientClipNorm");
    }

    [Fact]
    public void Optimizer_UndefinedValue_ThrowsNamingIt()
    {
        var act = () => new TrainerOptions { Optimizer = (TrainingOptimizer)7 };

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Optimizer");
    }

    [Fact]
    public void Constructor_SgdNesterovWithoutMomentum_ThrowsNamingBoth()
    {
        var act = () => new Trainer(new TrainerOptions { Optimizer = TrainingOptimizer.Sgd, Nesterov = true, Momentum = 0 });

        act.Should().Throw<ArgumentException>().WithMessage("*Nesterov*Momentum*").Which.ParamName.Should().Be("options");
    }

    [Theory]
    [InlineData(0, 0.1, "stepSize")]
    [InlineData(1, 0.0, "gamma")]
    [InlineData(1, double.NaN, "gamma")]
    public void Step_InvalidArgument_ThrowsNamingIt(int stepSize, double gamma, string name)
    {
        var act = () => LearningRateScheduler.Step(stepSize, gamma);

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }

    [Theory]
    [InlineData(0, 0.0, "periodEpochs")]
    [InlineData(3, -0.1, "minimumLearningRate")]
    public void Cosine_InvalidArgument_ThrowsNamingIt(int period, double minimum, string name)
    {
        var act = () => LearningRateScheduler.Cosine(period, minimum);

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }

    [Theory]
    [InlineData(0.0, 0.3, 25, 1e4, 0.85, 0.95, "maxLearningRate")]
    [InlineData(0.1, 0.0, 25, 1e4, 0.85, 0.95, "pctStart")]
    [InlineData(0.1, 1.0, 25, 1e4, 0.85, 0.95, "pctStart")]
    [InlineData(0.1, 0.3, 0.5, 1e4, 0.85, 0.95, "divFactor")]
    [InlineData(0.1, 0.3, 25, double.PositiveInfinity, 0.85, 0.95, "finalDivFactor")]
    [InlineData(0.1, 0.3, 25, 1e4, 1.0, 0.95, "baseMomentum")]
    [InlineData(0.1, 0.3, 25, 1e4, 0.9, 0.8, "maxMomentum")]
    public void OneCycle_InvalidArgument_ThrowsNamingIt(double max, double pct, double div, double finalDiv, double baseMomentum, double maxMomentum, string name)
    {
        var act = () => LearningRateScheduler.OneCycle(max, pct, div, finalDiv, cycleMomentum: true, baseMomentum, maxMomentum);

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }

    [Fact]
    public void Fit_OneCycleWarmUpShorterThanTwoSteps_ThrowsBeforeTraining()
    {
        using var train = LearnableDigits.Make(20);
        using var model = new ConvNet(seed: 0);

        // 1 epoch × 2 batches: a warm-up of 0.3 × 2 steps.
        var act = () => new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 1, LearningRateScheduler = LearningRateScheduler.OneCycle(0.1) })
            .Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 10 }));

        act.Should().Throw<ArgumentException>().WithMessage("*one-cycle*2 steps*").Which.ParamName.Should().Be("trainLoader");
    }

    [Fact]
    public void Fit_CosinePeriodShorterThanTheRunWithMinimumZero_ThrowsBeforeTraining()
    {
        using var train = LearnableDigits.Make(20);
        using var model = new ConvNet(seed: 0);

        var act = () => new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 3, LearningRateScheduler = LearningRateScheduler.Cosine(2) })
            .Fit(model, new DigitDataLoader(train));

        act.Should().Throw<ArgumentException>().WithMessage("*epoch 3 would train at a learning rate of 0*").Which.ParamName.Should().Be("trainLoader");
    }
}
