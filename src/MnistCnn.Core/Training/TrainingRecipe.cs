using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// A named training recipe: the network, how the training set is batched, and the optimizer and schedule, so an
/// application trains it with three calls (<see cref="CreateModel"/>, <see cref="CreateLoaderOptions"/>,
/// <see cref="CreateTrainerOptions"/>). Settings can be changed with <c>with</c> (<c>TrainingRecipe.Speedrun with { Epochs = 3 }</c>).
/// </summary>
/// <remarks>
/// The recipe decides nothing else: the device, the thread count and callbacks are the run's, added with
/// <c>with</c> on the <see cref="TrainerOptions"/> it creates.
/// </remarks>
public sealed record TrainingRecipe
{
    private readonly Func<long?, nn.Module<Tensor, Tensor>> _createModel;
    private readonly int _epochs;
    private readonly int _batchSize;
    private readonly double _maxLearningRate;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _labelSmoothing;

    private TrainingRecipe(string name, Func<long?, nn.Module<Tensor, Tensor>> createModel)
    {
        Name = name;
        _createModel = createModel;
    }

    /// <summary>
    /// The speedrun: <see cref="SpeedrunNet"/> trained for 1 epoch on shuffled batches of 64 (the last one
    /// partial) with Adam, betas (0.7, 0.9), under a one-cycle learning rate peaking at 0.005 (PyTorch's
    /// <c>OneCycleLR</c> defaults otherwise, momentum not cycled, so the betas hold), no augmentation. Short runs
    /// like this one are where low betas help: the moment estimates follow the fast-changing gradients.
    /// </summary>
    public static TrainingRecipe Speedrun { get; } = new("speedrun", seed => new SpeedrunNet(seed))
    {
        Epochs = 1,
        BatchSize = 64,
        MaxLearningRate = 0.005,
        Beta1 = 0.7,
        Beta2 = 0.9,
    };

    /// <summary>
    /// The most accurate recipe: <see cref="LeNet"/> trained for 11 epochs on shuffled batches of 64 (the last one
    /// partial), each training image shifted, rotated and scaled at random (<see cref="DigitAugmentation"/>'s
    /// defaults: up to 2 px, 10 degrees, 0.9-1.1), with Adam, betas (0.9, 0.999), under a one-cycle learning rate
    /// peaking at 0.002 (PyTorch's <c>OneCycleLR</c> defaults otherwise, momentum not cycled), on cross-entropy with
    /// label smoothing 0.1. docs/performance.md records how it was chosen, its accuracy over seeds and its time.
    /// </summary>
    public static TrainingRecipe Best { get; } = new("best", seed => new LeNet(seed))
    {
        Epochs = 11,
        BatchSize = 64,
        MaxLearningRate = 0.002,
        Beta1 = 0.9,
        Beta2 = 0.999,
        LabelSmoothing = 0.1,
        Augmentation = new DigitAugmentation(),
    };

    /// <summary>Gets the recipe's name (<c>speedrun</c> or <c>best</c>).</summary>
    public string Name { get; }

    /// <summary>Gets the number of epochs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Epochs
    {
        get => _epochs;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Epochs));
            _epochs = value;
        }
    }

    /// <summary>Gets the number of images per batch.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int BatchSize
    {
        get => _batchSize;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(BatchSize));
            _batchSize = value;
        }
    }

    /// <summary>Gets the peak of the one-cycle learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite or not above zero.</exception>
    public double MaxLearningRate
    {
        get => _maxLearningRate;
        init
        {
            if (!double.IsFinite(value) || value <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(MaxLearningRate), value, "The peak learning rate must be finite and above zero.");
            }

            _maxLearningRate = value;
        }
    }

    /// <summary>Gets Adam's beta1 (the gradient's moving average).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [0, 1).</exception>
    public double Beta1
    {
        get => _beta1;
        init => _beta1 = UnitInterval(value, nameof(Beta1));
    }

    /// <summary>Gets Adam's beta2 (the squared gradient's moving average).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [0, 1).</exception>
    public double Beta2
    {
        get => _beta2;
        init => _beta2 = UnitInterval(value, nameof(Beta2));
    }

    /// <summary>
    /// Gets the label smoothing of the training loss (<see cref="TrainerOptions.LabelSmoothing"/>): 0 for plain
    /// cross-entropy (the speedrun's).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [0, 1).</exception>
    public double LabelSmoothing
    {
        get => _labelSmoothing;
        init => _labelSmoothing = UnitInterval(value, nameof(LabelSmoothing));
    }

    /// <summary>
    /// Gets the random augmentation of the training batches (affine, and elastic when its alpha is above zero), or
    /// <see langword="null"/> for none (the speedrun's).
    /// </summary>
    public DigitAugmentation? Augmentation { get; init; }

    /// <summary>Creates the recipe's network with the initial parameters PyTorch gives it after <c>torch.manual_seed(seed)</c>.</summary>
    /// <param name="seed">The seed of the initial parameters; <see langword="null"/> draws them from torch's global generator.</param>
    /// <returns>A new network on the CPU; the caller owns and disposes it.</returns>
    /// <exception cref="Runtime.TorchBackendException">libtorch cannot be loaded in this process; the message names the cause and the fix.</exception>
    public nn.Module<Tensor, Tensor> CreateModel(long? seed) => _createModel(seed);

    /// <summary>Creates the training loader's options: <see cref="BatchSize"/>, shuffled, with <see cref="Augmentation"/>.</summary>
    /// <returns>New options.</returns>
    public DigitDataLoaderOptions CreateLoaderOptions() => new() { BatchSize = BatchSize, Shuffle = true, Augmentation = Augmentation };

    /// <summary>
    /// Creates the trainer's options: <see cref="Epochs"/>, Adam with <see cref="Beta1"/> and <see cref="Beta2"/>, <see cref="LabelSmoothing"/>, the
    /// one-cycle schedule peaking at <see cref="MaxLearningRate"/>, and <paramref name="seed"/> for the shuffled orders.
    /// </summary>
    /// <param name="seed">The run's seed (<see cref="TrainerOptions.Seed"/>).</param>
    /// <returns>New options; add the run's device, threads or callbacks with <c>with</c>.</returns>
    public TrainerOptions CreateTrainerOptions(long seed) => new()
    {
        Epochs = Epochs,
        Optimizer = TrainingOptimizer.Adam,
        LearningRate = MaxLearningRate,
        Beta1 = Beta1,
        Beta2 = Beta2,
        LabelSmoothing = LabelSmoothing,
        LearningRateScheduler = LearningRateScheduler.OneCycle(MaxLearningRate, cycleMomentum: false),
        Seed = seed,
    };

    private static double UnitInterval(double value, string name) =>
        double.IsFinite(value) && value >= 0 && value < 1
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1).");
}
