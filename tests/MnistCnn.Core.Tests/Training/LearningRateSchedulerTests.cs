using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Training;

/// <summary>
/// The schedulers' learning rates against PyTorch's documented formulas (computed here), position by position,
/// and in a trainer's run (<see cref="EpochResult.LearningRate"/>: the epoch's first batch).
/// </summary>
[Collection(TorchGlobalState.Name)]
public sealed class LearningRateSchedulerTests
{
    private const int Epochs = 4;
    private const int Batches = 5; // 80 images in batches of 16

    [Fact]
    public void Step_EveryEpoch_IsTheLearningRateTimesGammaToTheNumberOfDecays()
    {
        var schedule = LearningRateScheduler.Step(stepSize: 2, gamma: 0.3);

        var rates = Rates(schedule, TrainingOptimizer.Sgd, positions: 7);

        // lr_e = lr × gamma^⌊e / step_size⌋ (StepLR).
        rates.Should().Equal(Enumerable.Range(0, 7).Select(e => 0.01 * Math.Pow(0.3, e / 2)), Close);
        schedule.StepsPerBatch.Should().BeFalse();
    }

    [Theory]
    [InlineData(null, 0.0)]
    [InlineData(6, 0.001)]
    public void Cosine_EveryEpoch_IsTheHalfCosineFromTheLearningRateToTheMinimum(int? period, double minimum)
    {
        var schedule = LearningRateScheduler.Cosine(period, minimum);
        var tMax = period ?? Epochs;

        var rates = Rates(schedule, TrainingOptimizer.AdamW, positions: tMax);

        // lr_e = min + (lr − min) × (1 + cos(π e / T_max)) / 2 (CosineAnnealingLR).
        rates.Should().Equal(Enumerable.Range(0, tMax).Select(e => minimum + ((0.01 - minimum) * (1 + Math.Cos(Math.PI * e / tMax)) / 2)), Close);
    }

    [Theory]
    [InlineData(TrainingOptimizer.Adam, true)]
    [InlineData(TrainingOptimizer.Sgd, true)]
    [InlineData(TrainingOptimizer.AdamW, false)]
    public void OneCycle_EveryBatch_FollowsPyTorchsTwoPhaseCosineCycle(TrainingOptimizer kind, bool cycleMomentum)
    {
        var schedule = LearningRateScheduler.OneCycle(0.1, pctStart: 0.25, divFactor: 10, finalDivFactor: 100, cycleMomentum: cycleMomentum, baseMomentum: 0.8, maxMomentum: 0.9);
        var total = Epochs * Batches;
        using var model = nn.Linear(2, 2);
        using var optimizer = new Trainer(new TrainerOptions { Optimizer = kind, Momentum = 0.5, Beta1 = 0.7 }).CreateOptimizer(model);
        var scheduler = schedule.Create(optimizer, Epochs, Batches);

        for (var step = 0; step < total; step++)
        {
            scheduler.step((int?)step);
            var (lr, momentum) = OneCycleFormula(step, total, 0.1, 0.25, 10, 100, 0.8, 0.9);
            optimizer.ParamGroups.First().LearningRate.Should().BeApproximately(lr, lr * 1e-12, $"step {step}");
            var group = optimizer.ParamGroups.First();
            var actualMomentum = group is SGD.ParamGroup sgd ? sgd.Momentum : ((optim.IBetas)group).Betas.Item1;
            actualMomentum.Should().BeApproximately(cycleMomentum ? momentum : (kind == TrainingOptimizer.Sgd ? 0.5 : 0.7), 1e-12, $"step {step}");
        }

        schedule.StepsPerBatch.Should().BeTrue();
    }

    [Theory]
    [InlineData("step")]
    [InlineData("cosine")]
    [InlineData("one-cycle")]
    public void Fit_WithScheduler_ReportsEachEpochsFirstBatchLearningRate(string name)
    {
        LearningRateScheduler schedule = name switch
        {
            "step" => LearningRateScheduler.Step(1, 0.5),
            "cosine" => LearningRateScheduler.Cosine(),
            _ => LearningRateScheduler.OneCycle(0.05),
        };
        using var train = LearnableDigits.Make(16 * Batches);
        using var model = new ConvNet(seed: 1);
        var options = new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = Epochs, Threads = 1, LearningRateScheduler = schedule };

        var history = new Trainer(options).Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16 }));

        var expected = Enumerable.Range(0, Epochs).Select(e => name switch
        {
            "step" => 0.01 * Math.Pow(0.5, e),
            "cosine" => 0.01 * (1 + Math.Cos(Math.PI * e / Epochs)) / 2,
            _ => OneCycleFormula(e * Batches, Epochs * Batches, 0.05, 0.3, 25, 1e4, 0.85, 0.95).LearningRate,
        });
        history.Epochs.Select(e => e.LearningRate).Should().Equal(expected, Close);
    }

    [Fact]
    public void StepAndCosine_EqualPyTorchsValues()
    {
        Rates(LearningRateScheduler.Step(2, 0.3), TrainingOptimizer.Sgd, 7).Should().Equal(PyTorchOptimFixture.Scheduler("step"), Near);
        Rates(LearningRateScheduler.Cosine(6, 0.001), TrainingOptimizer.AdamW, 6).Should().Equal(PyTorchOptimFixture.Scheduler("cosine"), Near);
    }

    [Theory]
    [InlineData(TrainingOptimizer.Adam, "adam")]
    [InlineData(TrainingOptimizer.Sgd, "sgd")]
    public void OneCycle_EqualsPyTorchsLearningRatesAndMomenta(TrainingOptimizer kind, string name)
    {
        // PyTorch: OneCycleLR(max_lr=0.1, total_steps=20, pct_start=0.25, div_factor=10, final_div_factor=100, base 0.8, max 0.9).
        var schedule = LearningRateScheduler.OneCycle(0.1, pctStart: 0.25, divFactor: 10, finalDivFactor: 100, baseMomentum: 0.8, maxMomentum: 0.9);
        using var model = nn.Linear(2, 2);
        using var optimizer = new Trainer(new TrainerOptions { Optimizer = kind, Momentum = 0.5, Beta1 = 0.7 }).CreateOptimizer(model);
        var scheduler = schedule.Create(optimizer, epochs: 4, batchesPerEpoch: 5);
        var (rates, momenta) = (new double[20], new double[20]);
        for (var step = 0; step < 20; step++)
        {
            scheduler.step((int?)step);
            var group = optimizer.ParamGroups.First();
            rates[step] = group.LearningRate;
            momenta[step] = group is SGD.ParamGroup sgd ? sgd.Momentum : ((optim.IBetas)group).Betas.Item1;
        }

        rates.Should().Equal(PyTorchOptimFixture.Scheduler($"one_cycle_{name}_lr"), Near);
        momenta.Should().Equal(PyTorchOptimFixture.Scheduler($"one_cycle_{name}_momentum"), Near);
    }

    // PyTorch steps these schedulers recursively, the trainer by their closed form: equal to within the last digits.
    private static bool Near(double actual, double expected) => Math.Abs(actual - expected) <= Math.Abs(expected) * 1e-9;

    private static bool Close(double actual, double expected) => Math.Abs(actual - expected) <= Math.Abs(expected) * 1e-12;

    // The learning rate TorchSharp's scheduler sets at positions 0..n-1, as the trainer positions it.
    private static double[] Rates(LearningRateScheduler schedule, TrainingOptimizer kind, int positions)
    {
        using var model = nn.Linear(2, 2);
        using var optimizer = new Trainer(new TrainerOptions { Optimizer = kind }).CreateOptimizer(model);
        var scheduler = schedule.Create(optimizer, Epochs, Batches);
        var rates = new double[positions];
        for (var p = 0; p < positions; p++)
        {
            scheduler.step((int?)p);
            rates[p] = optimizer.ParamGroups.First().LearningRate;
        }

        return rates;
    }

    // PyTorch's OneCycleLR (two phases, cosine annealing): phase ends at pct_start × total − 1 and total − 1.
    private static (double LearningRate, double Momentum) OneCycleFormula(
        int step, int total, double maxLr, double pctStart, double divFactor, double finalDivFactor, double baseMomentum, double maxMomentum)
    {
        var initial = maxLr / divFactor;
        var minimum = initial / finalDivFactor;
        var end1 = (pctStart * total) - 1;
        var end2 = total - 1.0;
        static double Anneal(double start, double end, double pct) => end + ((start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1));
        return step <= end1
            ? (Anneal(initial, maxLr, step / end1), Anneal(maxMomentum, baseMomentum, step / end1))
            : (Anneal(maxLr, minimum, (step - end1) / (end2 - end1)), Anneal(baseMomentum, maxMomentum, (step - end1) / (end2 - end1)));
    }
}
