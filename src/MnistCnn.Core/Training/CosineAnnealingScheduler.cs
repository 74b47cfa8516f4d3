using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch.optim.lr_scheduler;

namespace MnistCnn.Core.Training;

/// <summary>
/// CosineAnnealingLR (TorchSharp's <c>torch.optim.lr_scheduler.CosineAnnealingLR</c>): the learning rate falls
/// from <see cref="TrainerOptions.LearningRate"/> to <see cref="MinimumLearningRate"/> along half a cosine over
/// <see cref="PeriodEpochs"/> epochs. Made by <see cref="LearningRateScheduler.Cosine"/>.
/// </summary>
/// <remarks>
/// Past the period the learning rate rises again along the cosine, as PyTorch's does. With a
/// <see cref="MinimumLearningRate"/> of 0 the period must be at least the run's epochs, so that no epoch trains at
/// a learning rate of 0.
/// </remarks>
public sealed record CosineAnnealingScheduler : LearningRateScheduler
{
    internal CosineAnnealingScheduler(int? periodEpochs, double minimumLearningRate)
    {
        if (periodEpochs is { } period)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(period, 1, nameof(periodEpochs));
        }

        PeriodEpochs = periodEpochs;
        MinimumLearningRate = Checked(minimumLearningRate, nameof(minimumLearningRate), 0, minIncluded: true);
    }

    /// <summary>Gets the epochs of the half cosine (PyTorch's <c>T_max</c>), or <see langword="null"/> for the run's
    /// <see cref="TrainerOptions.Epochs"/>.</summary>
    public int? PeriodEpochs { get; }

    /// <summary>Gets the learning rate at the end of the period (PyTorch's <c>eta_min</c>). Finite and not negative.</summary>
    public double MinimumLearningRate { get; }

    /// <summary>Gets <see langword="false"/>: the learning rate changes at the start of every epoch.</summary>
    public override bool StepsPerBatch => false;

    internal override LRScheduler Create(OptimizerHelper optimizer, int epochs, int batchesPerEpoch) =>
        CosineAnnealingLR(optimizer, PeriodEpochs ?? epochs, MinimumLearningRate);

    internal override string Describe(int epochs, int batchesPerEpoch) =>
        string.Create(CultureInfo.InvariantCulture, $"CosineAnnealingLR period {PeriodEpochs ?? epochs} epochs, minimum {MinimumLearningRate:R}");

    internal override void CheckFits(int epochs, int batchesPerEpoch, string parameterName)
    {
        if (MinimumLearningRate == 0 && PeriodEpochs is { } period && period < epochs)
        {
            throw new ArgumentException(
                $"The cosine schedule's period of {period} epochs is shorter than the run's {epochs} epochs with a minimum learning rate of 0: epoch " +
                    $"{period + 1} would train at a learning rate of 0. Set a period of at least {epochs} epochs or a minimum above 0.",
                parameterName);
        }
    }
}
