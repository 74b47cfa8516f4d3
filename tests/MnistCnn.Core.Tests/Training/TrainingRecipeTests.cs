using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.Tests.Training;

/// <summary>The named recipes: what <see cref="TrainingRecipe.Speedrun"/> and <see cref="TrainingRecipe.Best"/> set, the checks on changed settings, and that it trains.</summary>
[Collection(TorchGlobalState.Name)]
public sealed class TrainingRecipeTests
{
    [Fact]
    public void Speedrun_Settings_AreTheRecipes()
    {
        var recipe = TrainingRecipe.Speedrun;

        recipe.Name.Should().Be("speedrun");
        (recipe.Epochs, recipe.BatchSize, recipe.MaxLearningRate, recipe.Beta1, recipe.Beta2).Should().Be((1, 64, 0.005, 0.7, 0.9));
        (recipe.LabelSmoothing, recipe.Augmentation).Should().Be((0.0, null));
    }

    [Fact]
    public void CreateTrainerOptions_Speedrun_GivesAdamWithTheBetasUnderAOneCycleThatKeepsThem()
    {
        var options = TrainingRecipe.Speedrun.CreateTrainerOptions(seed: 7);

        options.Seed.Should().Be(7);
        options.Epochs.Should().Be(1);
        options.Optimizer.Should().Be(TrainingOptimizer.Adam);
        (options.Beta1, options.Beta2).Should().Be((0.7, 0.9));
        var schedule = options.LearningRateScheduler.Should().BeOfType<OneCycleScheduler>().Subject;
        schedule.MaxLearningRate.Should().Be(0.005);
        schedule.CycleMomentum.Should().BeFalse("a cycled momentum would replace beta1");
        (schedule.PctStart, schedule.DivFactor, schedule.FinalDivFactor).Should().Be((0.3, 25, 1e4));
    }

    [Fact]
    public void CreateLoaderOptions_Speedrun_ShufflesBatchesOf64WithoutAugmentation()
    {
        var options = TrainingRecipe.Speedrun.CreateLoaderOptions();

        options.Should().BeEquivalentTo(new DigitDataLoaderOptions { BatchSize = 64, Shuffle = true });
        options.Augmentation.Should().BeNull();
    }

    [Fact]
    public void CreateModel_Speedrun_GivesTheSeededSpeedrunNet()
    {
        using var model = TrainingRecipe.Speedrun.CreateModel(seed: 3);
        using var expected = new SpeedrunNet(seed: 3);

        model.Should().BeOfType<SpeedrunNet>();
        foreach (var ((name, actual), (_, reference)) in model.named_parameters().Zip(expected.named_parameters()))
        {
            actual.allclose(reference, rtol: 0, atol: 0).Should().BeTrue(name);
        }
    }

    [Fact]
    public void Best_Settings_AreTheRecipes()
    {
        var recipe = TrainingRecipe.Best;

        recipe.Name.Should().Be("best");
        (recipe.Epochs, recipe.BatchSize, recipe.MaxLearningRate, recipe.Beta1, recipe.Beta2).Should().Be((11, 64, 0.002, 0.9, 0.999));
        recipe.LabelSmoothing.Should().Be(0.1);
        recipe.Augmentation.Should().Be(new DigitAugmentation());
    }

    [Fact]
    public void CreateLoaderOptions_Best_ShufflesBatchesOf64WithTheRecipesAugmentation()
    {
        var options = TrainingRecipe.Best.CreateLoaderOptions();

        (options.BatchSize, options.Shuffle, options.DropLast).Should().Be((64, true, false));
        options.Augmentation.Should().BeSameAs(TrainingRecipe.Best.Augmentation);
    }

    [Fact]
    public void CreateTrainerOptions_Best_GivesAdamWithTheBetasAndLabelSmoothingUnderAOneCycleThatKeepsThem()
    {
        var options = TrainingRecipe.Best.CreateTrainerOptions(seed: 2);

        (options.Seed, options.Epochs, options.Optimizer).Should().Be((2, 11, TrainingOptimizer.Adam));
        (options.Beta1, options.Beta2, options.LabelSmoothing).Should().Be((0.9, 0.999, 0.1));
        var schedule = options.LearningRateScheduler.Should().BeOfType<OneCycleScheduler>().Subject;
        (schedule.MaxLearningRate, schedule.CycleMomentum).Should().Be((0.002, false));
    }

    [Fact]
    public void CreateModel_Best_GivesTheSeededLeNet()
    {
        using var model = TrainingRecipe.Best.CreateModel(seed: 4);
        using var expected = new LeNet(seed: 4);

        model.Should().BeOfType<LeNet>();
        foreach (var ((name, actual), (_, reference)) in model.named_parameters().Zip(expected.named_parameters()))
        {
            actual.allclose(reference, rtol: 0, atol: 0).Should().BeTrue(name);
        }
    }

    [Theory]
    [InlineData(nameof(TrainingRecipe.Epochs), 0)]
    [InlineData(nameof(TrainingRecipe.BatchSize), 0)]
    [InlineData(nameof(TrainingRecipe.MaxLearningRate), 0)]
    [InlineData(nameof(TrainingRecipe.MaxLearningRate), double.NaN)]
    [InlineData(nameof(TrainingRecipe.Beta1), 1)]
    [InlineData(nameof(TrainingRecipe.Beta2), -0.1)]
    [InlineData(nameof(TrainingRecipe.LabelSmoothing), 1)]
    [InlineData(nameof(TrainingRecipe.LabelSmoothing), double.NaN)]
    public void With_ValueOutOfRange_ThrowsNamingTheSetting(string setting, double value)
    {
        var act = () => setting switch
        {
            nameof(TrainingRecipe.Epochs) => TrainingRecipe.Speedrun with { Epochs = (int)value },
            nameof(TrainingRecipe.BatchSize) => TrainingRecipe.Speedrun with { BatchSize = (int)value },
            nameof(TrainingRecipe.MaxLearningRate) => TrainingRecipe.Speedrun with { MaxLearningRate = value },
            nameof(TrainingRecipe.Beta1) => TrainingRecipe.Speedrun with { Beta1 = value },
            nameof(TrainingRecipe.LabelSmoothing) => TrainingRecipe.Speedrun with { LabelSmoothing = value },
            _ => TrainingRecipe.Speedrun with { Beta2 = value },
        };

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(setting);
    }

    [Fact]
    public void Fit_SpeedrunOnATinyLearnableSet_LearnsIt()
    {
        using var train = LearnableDigits.Make(640, seed: 1);
        using var test = LearnableDigits.Make(100, seed: 2);
        var recipe = TrainingRecipe.Speedrun with { Epochs = 4, BatchSize = 32, MaxLearningRate = 0.01 };
        using var model = recipe.CreateModel(seed: 0);
        var trainer = new Trainer(recipe.CreateTrainerOptions(seed: 0) with { Device = TrainingDevice.Cpu });

        var history = trainer.Fit(model, new DigitDataLoader(train, recipe.CreateLoaderOptions()), new DigitDataLoader(test));

        history.Epochs.Should().HaveCount(4);
        history.Epochs[^1].TrainLossMean.Should().BeLessThan(history.Epochs[0].TrainLossMean / 2);
        history.Epochs[^1].ValidationAccuracy.Should().BeGreaterThan(90);
    }
}
