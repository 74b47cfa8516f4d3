using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch.optim.lr_scheduler;

namespace MnistCnn.Core.Training;

/// <summary>
/// OneCycleLR (TorchSharp's <c>torch.optim.lr_scheduler.OneCycleLR</c>, cosine annealing, two phases): over the
/// whole run the learning rate rises from <see cref="MaxLearningRate"/> / <see cref="DivFactor"/> to
/// <see cref="MaxLearningRate"/>, then falls to <see cref="MaxLearningRate"/> / (<see cref="DivFactor"/> ×
/// <see cref="FinalDivFactor"/>). Made by <see cref="LearningRateScheduler.OneCycle"/>.
/// </summary>
/// <remarks>
/// The cycle has <c>Epochs × batches per epoch</c> steps (<see cref="TrainerOptions.Epochs"/> and the training
/// loader's <see cref="Data.DigitDataLoader.BatchCount"/>), one per batch; a run resumed with another epoch count
/// follows another cycle (the trainer logs the changed settings).
/// </remarks>
public sealed record OneCycleScheduler : LearningRateScheduler
{
    internal OneCycleScheduler(double maxLearningRate, double pctStart, double divFactor, double finalDivFactor, bool cycleMomentum, double baseMomentum,
        double maxMomentum)
    {
        MaxLearningRate = Checked(maxLearningRate, nameof(maxLearningRate), 0, minIncluded: false);
        PctStart = Checked(pctStart, nameof(pctStart), 0, minIncluded: false, maxExcluded: 1);
        DivFactor = Checked(divFactor, nameof(divFactor), 1, minIncluded: true);
        FinalDivFactor = Checked(finalDivFactor, nameof(finalDivFactor), 1, minIncluded: true);
        CycleMomentum = cycleMomentum;
        BaseMomentum = Checked(baseMomentum, nameof(baseMomentum), 0, minIncluded: true, maxExcluded: 1);
        MaxMomentum = Checked(maxMomentum, nameof(maxMomentum), baseMomentum, minIncluded: true, maxExcluded: 1);
    }

    /// <summary>Gets the peak learning rate.</summary>
    public double MaxLearningRate { get; }

    /// <summary>Gets the fraction of the steps spent rising, in (0, 1).</summary>
    public double PctStart { get; }

    /// <summary>Gets the ratio of the peak to the initial learning rate. At least 1.</summary>
    public double DivFactor { get; }

    /// <summary>Gets the ratio of the initial to the final learning rate. At least 1.</summary>
    public double FinalDivFactor { get; }

    /// <summary>Gets whether the momentum (Adam's and AdamW's beta1, SGD's momentum) cycles inversely to the learning rate.</summary>
    public bool CycleMomentum { get; }

    /// <summary>Gets the momentum at the peak learning rate, in [0, 1).</summary>
    public double BaseMomentum { get; }

    /// <summary>Gets the momentum at the start and the end of the cycle, in [<see cref="BaseMomentum"/>, 1).</summary>
    public double MaxMomentum { get; }

    /// <summary>Gets <see langword="true"/>: the learning rate changes before every batch.</summary>
    public override bool StepsPerBatch => true;

    internal override LRScheduler Create(OptimizerHelper optimizer, int epochs, int batchesPerEpoch) => OneCycleLR(
        optimizer,
        MaxLearningRate,
        total_steps: epochs * batchesPerEpoch,
        pct_start: PctStart,
        cycle_momentum: CycleMomentum,
        base_momentum: BaseMomentum,
        max_momentum: MaxMomentum,
        div_factor: DivFactor,
        final_div_factor: FinalDivFactor);

    internal override string Describe(int epochs, int batchesPerEpoch) => string.Create(
        CultureInfo.InvariantCulture,
        $"OneCycleLR max {MaxLearningRate:R} over {(long)epochs * batchesPerEpoch} steps, pct_start {PctStart:R}, div {DivFactor:R}, final div " +
            $"{FinalDivFactor:R}, momentum {(CycleMomentum ? $"{MaxMomentum:R}-{BaseMomentum:R}" : "not cycled")}");

    internal override void CheckFits(int epochs, int batchesPerEpoch, string parameterName)
    {
        var steps = (long)epochs * batchesPerEpoch;
        if (steps > int.MaxValue)
        {
            throw new ArgumentException($"The one-cycle schedule would span {steps} steps ({epochs} epochs × {batchesPerEpoch} batches); TorchSharp counts " +
                $"at most {int.MaxValue}.", parameterName);
        }

        // Phase ends sit at PctStart × steps − 1 and steps − 1; at 0 or below the first phase divides 0 by 0.
        if (PctStart * steps <= 1)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture,
                    $"The one-cycle schedule's warm-up (pctStart {PctStart:R} of {steps} steps: {epochs} epochs × {batchesPerEpoch} batches) is not longer " +
                        $"than one step. Train more steps or raise pctStart."),
                parameterName);
        }
    }
}
