using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch.optim.lr_scheduler;

namespace MnistCnn.Core.Training;

/// <summary>
/// StepLR (TorchSharp's <c>torch.optim.lr_scheduler.StepLR</c>): the learning rate is multiplied by
/// <see cref="Gamma"/> every <see cref="StepSize"/> epochs. Made by <see cref="LearningRateScheduler.Step"/>.
/// </summary>
public sealed record StepScheduler : LearningRateScheduler
{
    internal StepScheduler(int stepSize, double gamma)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1, nameof(stepSize));
        StepSize = stepSize;
        Gamma = Checked(gamma, nameof(gamma), 0, minIncluded: false);
    }

    /// <summary>Gets the epochs between two decays. At least 1.</summary>
    public int StepSize { get; }

    /// <summary>Gets the factor of each decay. Finite and greater than zero.</summary>
    public double Gamma { get; }

    /// <summary>Gets <see langword="false"/>: the learning rate changes at the start of every epoch.</summary>
    public override bool StepsPerBatch => false;

    internal override LRScheduler Create(OptimizerHelper optimizer, int epochs, int batchesPerEpoch) =>
        StepLR(optimizer, StepSize, Gamma);

    internal override string Describe(int epochs, int batchesPerEpoch) =>
        string.Create(CultureInfo.InvariantCulture, $"StepLR step {StepSize} epochs, gamma {Gamma:R}");
}
