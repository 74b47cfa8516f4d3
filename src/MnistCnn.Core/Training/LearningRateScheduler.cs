using TorchSharp.Modules;
using static TorchSharp.torch.optim.lr_scheduler;

namespace MnistCnn.Core.Training;

/// <summary>
/// A learning-rate scheduler from TorchSharp's <c>torch.optim.lr_scheduler</c>, chosen with
/// <see cref="TrainerOptions.LearningRateScheduler"/>: <see cref="Step"/> (StepLR), <see cref="Cosine"/>
/// (CosineAnnealingLR) or <see cref="OneCycle"/> (OneCycleLR).
/// </summary>
/// <remarks>
/// <para>
/// <see cref="StepsPerBatch"/> says when the learning rate changes: <see cref="Step"/> and <see cref="Cosine"/>
/// change it at the start of every epoch (their periods count epochs), <see cref="OneCycle"/> before every batch
/// (its cycle spans <c>Epochs × batches per epoch</c> steps).
/// </para>
/// <para>
/// The trainer sets the scheduler's position before each epoch or batch (TorchSharp's <c>step(epoch)</c>), so
/// the learning rate of a step is PyTorch's closed-form value for that position and depends on nothing else;
/// a run resumed from a checkpoint therefore uses the same learning rates as an uninterrupted one, bit for bit.
/// (PyTorch's recursive form, used when <c>step()</c> is called without a position, gives the same values to
/// within the last digits.)
/// </para>
/// </remarks>
public abstract record LearningRateScheduler
{
    private protected LearningRateScheduler()
    {
    }

    /// <summary>
    /// Gets whether the learning rate changes before every batch (<see langword="true"/>) or at the start of every
    /// epoch (<see langword="false"/>).
    /// </summary>
    public abstract bool StepsPerBatch { get; }

    /// <summary>
    /// StepLR: the learning rate is <see cref="TrainerOptions.LearningRate"/> × <paramref name="gamma"/> to the
    /// power ⌊epoch / <paramref name="stepSize"/>⌋ (epoch counted from 0); it changes at the start of every epoch.
    /// </summary>
    /// <param name="stepSize">Epochs between two decays. At least 1.</param>
    /// <param name="gamma">The factor of each decay. Default: 0.1 (PyTorch's). Finite and greater than zero.</param>
    /// <returns>The scheduler.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public static StepScheduler Step(int stepSize, double gamma = 0.1) => new(stepSize, gamma);

    /// <summary>
    /// CosineAnnealingLR: the learning rate falls from <see cref="TrainerOptions.LearningRate"/> to
    /// <paramref name="minimumLearningRate"/> along half a cosine over <paramref name="periodEpochs"/> epochs,
    /// <c>min + (LearningRate − min) × (1 + cos(π × epoch / period)) / 2</c> (epoch counted from 0); it changes at
    /// the start of every epoch.
    /// </summary>
    /// <param name="periodEpochs">The epochs of the half cosine (PyTorch's <c>T_max</c>), or <see langword="null"/>
    /// (the default) for the run's <see cref="TrainerOptions.Epochs"/>. At least 1.</param>
    /// <param name="minimumLearningRate">The learning rate at the end of the period (PyTorch's <c>eta_min</c>). Default: 0. Finite and not negative.</param>
    /// <returns>The scheduler.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public static CosineAnnealingScheduler Cosine(int? periodEpochs = null, double minimumLearningRate = 0) => new(periodEpochs, minimumLearningRate);

    /// <summary>
    /// OneCycleLR (Smith's one-cycle policy, cosine annealing, two phases): over the whole run
    /// (<c>Epochs × batches per epoch</c> steps) the learning rate rises from
    /// <paramref name="maxLearningRate"/> / <paramref name="divFactor"/> to <paramref name="maxLearningRate"/>
    /// during the first <paramref name="pctStart"/> of the steps, then falls to
    /// <paramref name="maxLearningRate"/> / (<paramref name="divFactor"/> × <paramref name="finalDivFactor"/>);
    /// it changes before every batch. <see cref="TrainerOptions.LearningRate"/> is not used.
    /// </summary>
    /// <param name="maxLearningRate">The peak learning rate. Finite and greater than zero.</param>
    /// <param name="pctStart">The fraction of the steps spent rising. Default: 0.3 (PyTorch's). Greater than 0 and less
    /// than 1; the run must have more than 1 / <paramref name="pctStart"/> steps.</param>
    /// <param name="divFactor">The initial learning rate is <paramref name="maxLearningRate"/> /
    /// <paramref name="divFactor"/>. Default: 25 (PyTorch's). Finite and at least 1.</param>
    /// <param name="finalDivFactor">The final learning rate is the initial one / <paramref name="finalDivFactor"/>.
    /// Default: 1e4 (PyTorch's). Finite and at least 1.</param>
    /// <param name="cycleMomentum">Whether the momentum cycles inversely to the learning rate, between
    /// <paramref name="maxMomentum"/> and <paramref name="baseMomentum"/>: Adam's and AdamW's beta1, SGD's momentum
    /// (replacing <see cref="TrainerOptions.Beta1"/> or <see cref="TrainerOptions.Momentum"/>). Default:
    /// <see langword="true"/> (PyTorch's).</param>
    /// <param name="baseMomentum">The momentum at the peak learning rate. Default: 0.85 (PyTorch's). In [0, 1).</param>
    /// <param name="maxMomentum">The momentum at the start and the end. Default: 0.95 (PyTorch's). In [<paramref name="baseMomentum"/>, 1).</param>
    /// <returns>The scheduler.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public static OneCycleScheduler OneCycle(
        double maxLearningRate,
        double pctStart = 0.3,
        double divFactor = 25,
        double finalDivFactor = 1e4,
        bool cycleMomentum = true,
        double baseMomentum = 0.85,
        double maxMomentum = 0.95) =>
        new(maxLearningRate, pctStart, divFactor, finalDivFactor, cycleMomentum, baseMomentum, maxMomentum);

    /// <summary>Creates TorchSharp's scheduler over <paramref name="optimizer"/>, at position 0.</summary>
    internal abstract LRScheduler Create(OptimizerHelper optimizer, int epochs, int batchesPerEpoch);

    /// <summary>Describes the schedule of a run (invariant culture), for the checkpoint's settings.</summary>
    internal abstract string Describe(int epochs, int batchesPerEpoch);

    /// <summary>Throws <see cref="ArgumentException"/> when the schedule cannot drive a run of this length.</summary>
    internal virtual void CheckFits(int epochs, int batchesPerEpoch, string parameterName)
    {
    }

    /// <summary>The position of a step: the epoch (counted from 0) or, per batch, the batch of the whole run.</summary>
    internal int Position(int epoch, int batch, int batchesPerEpoch) => StepsPerBatch ? (epoch * batchesPerEpoch) + batch : epoch;

    private protected static double Checked(double value, string name, double min, bool minIncluded, double maxExcluded = double.PositiveInfinity)
    {
        if (!double.IsFinite(value) || (minIncluded ? value < min : value <= min) || value >= maxExcluded)
        {
            var range = double.IsPositiveInfinity(maxExcluded)
                ? (minIncluded ? $"finite and at least {min}" : $"finite and greater than {min}")
                : $"in {(minIncluded ? "[" : "(")}{min}, {maxExcluded})";
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be {range}.");
        }

        return value;
    }
}
