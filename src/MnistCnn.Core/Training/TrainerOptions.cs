namespace MnistCnn.Core.Training;

/// <summary>
/// Options of a <see cref="Trainer"/>. The defaults are the case study's: 5 epochs of Adam at learning
/// rate 0.01 with PyTorch's other Adam defaults, a constant learning rate, no gradient clipping, cross-entropy
/// loss, CUDA when available.
/// </summary>
/// <remarks>
/// <para>Every setter validates its value and throws <see cref="ArgumentOutOfRangeException"/> when it is out of range.</para>
/// <para>
/// Which optimizer hyperparameters apply depends on <see cref="Optimizer"/>: <see cref="LearningRate"/> and
/// <see cref="WeightDecay"/> to every optimizer; <see cref="Beta1"/>, <see cref="Beta2"/> and <see cref="Epsilon"/>
/// to Adam and AdamW; <see cref="Momentum"/> and <see cref="Nesterov"/> to SGD. The others are ignored.
/// Combinations are checked when the <see cref="Trainer"/> is created.
/// </para>
/// <para>
/// These are the settings of a run, and the trainer is their only owner: the device, the seed and torch's thread
/// count are set here, not on the loaders (which own batching and shuffling) or the model (which owns its
/// architecture and initial weights).
/// </para>
/// </remarks>
public sealed record TrainerOptions
{
    private readonly int _epochs = 5;
    private readonly double _learningRate = 0.01;
    private readonly double _beta1 = 0.9;
    private readonly double _beta2 = 0.999;
    private readonly double _epsilon = 1e-8;
    private readonly double _weightDecay;
    private readonly int? _threads;
    private readonly int? _validationBatchSize;
    private readonly IReadOnlyList<TrainingCallback> _callbacks = [];
    private readonly TrainingOptimizer _optimizer = TrainingOptimizer.Adam;
    private readonly double _momentum = 0.9;
    private readonly double? _gradientClipNorm;
    private readonly double _labelSmoothing;

    /// <summary>Gets the number of epochs to train. Default: 5. At least 1.</summary>
    public int Epochs
    {
        get => _epochs;
        init => _epochs = Positive(value, nameof(Epochs));
    }

    /// <summary>
    /// Gets the optimizer. Default: <see cref="TrainingOptimizer.Adam"/> (the case study's). A defined
    /// <see cref="TrainingOptimizer"/> value.
    /// </summary>
    public TrainingOptimizer Optimizer
    {
        get => _optimizer;
        init => _optimizer = Enum.IsDefined(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Optimizer), value, "Optimizer must be a defined TrainingOptimizer value.");
    }

    /// <summary>
    /// Gets the optimizer's learning rate (every optimizer), or with <see cref="LearningRateScheduler"/> the
    /// learning rate the StepLR and cosine schedules start from (the one-cycle schedule has its own peak).
    /// Default: 0.01. Finite and greater than zero.
    /// </summary>
    public double LearningRate
    {
        get => _learningRate;
        init => _learningRate = Positive(value, nameof(LearningRate));
    }

    /// <summary>
    /// Gets Adam's and AdamW's first-moment decay. Default: 0.9 (PyTorch's). In [0, 1). A one-cycle schedule with
    /// momentum cycling replaces it.
    /// </summary>
    public double Beta1
    {
        get => _beta1;
        init => _beta1 = UnitInterval(value, nameof(Beta1));
    }

    /// <summary>Gets Adam's and AdamW's second-moment decay. Default: 0.999 (PyTorch's). In [0, 1).</summary>
    public double Beta2
    {
        get => _beta2;
        init => _beta2 = UnitInterval(value, nameof(Beta2));
    }

    /// <summary>Gets Adam's and AdamW's epsilon. Default: 1e-8 (PyTorch's). Finite and greater than zero.</summary>
    public double Epsilon
    {
        get => _epsilon;
        init => _epsilon = Positive(value, nameof(Epsilon));
    }

    /// <summary>
    /// Gets the weight decay (every optimizer): for Adam and SGD an L2 penalty added to the gradient, for AdamW the
    /// decoupled decay (the weights are multiplied by <c>1 − lr × WeightDecay</c> each step). Default: 0. Finite
    /// and not negative.
    /// </summary>
    public double WeightDecay
    {
        get => _weightDecay;
        init
        {
            if (!double.IsFinite(value) || value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(WeightDecay), value, "WeightDecay must be finite and not negative.");
            }

            _weightDecay = value;
        }
    }

    /// <summary>
    /// Gets SGD's momentum (<see cref="TrainingOptimizer.Sgd"/> only; 0 for plain SGD). Default: 0.9. In [0, 1).
    /// A one-cycle schedule with momentum cycling replaces it.
    /// </summary>
    public double Momentum
    {
        get => _momentum;
        init => _momentum = UnitInterval(value, nameof(Momentum));
    }

    /// <summary>
    /// Gets whether SGD uses Nesterov momentum (<see cref="TrainingOptimizer.Sgd"/> only). Default:
    /// <see langword="false"/>. Needs a <see cref="Momentum"/> above 0 (checked when the trainer is created).
    /// </summary>
    public bool Nesterov { get; init; }

    /// <summary>
    /// Gets the largest total L2 norm of the gradients (all parameters together, as
    /// <c>torch.nn.utils.clip_grad_norm_</c> computes it), or <see langword="null"/> (the default) for no clipping.
    /// When the norm exceeds it, every gradient is scaled by <c>GradientClipNorm / (norm + 1e-6)</c> before the
    /// optimizer step; smaller gradients are left unchanged. For CPU float32 gradients the norm is summed in double
    /// precision, so clipped gradients may differ from PyTorch's in the last float32 digits. Finite and greater than
    /// zero.
    /// </summary>
    public double? GradientClipNorm
    {
        get => _gradientClipNorm;
        init => _gradientClipNorm = value is { } v ? Positive(v, nameof(GradientClipNorm)) : null;
    }

    /// <summary>
    /// Gets the label smoothing of the training loss, as PyTorch's <c>cross_entropy(label_smoothing=e)</c>: the target
    /// puts <c>1 − e + e/K</c> on the label and <c>e/K</c> on each other class (K classes). Default: 0 (plain
    /// cross-entropy). In [0, 1). It discourages over-confident logits; the training loss reported per epoch includes
    /// it, the validation loss and accuracy do not.
    /// </summary>
    public double LabelSmoothing
    {
        get => _labelSmoothing;
        init => _labelSmoothing = UnitInterval(value, nameof(LabelSmoothing));
    }

    /// <summary>
    /// Gets the learning-rate scheduler (<see cref="Training.LearningRateScheduler.Step"/>,
    /// <see cref="Training.LearningRateScheduler.Cosine"/> or <see cref="Training.LearningRateScheduler.OneCycle"/>),
    /// or <see langword="null"/> (the default) for none. StepLR and cosine change the learning rate at the start of
    /// every epoch, one-cycle before every batch; <see cref="EpochResult.LearningRate"/> reports the learning rate of
    /// the epoch's first batch. Checkpoints record it, and a resumed run continues the schedule where it stopped.
    /// </summary>
    public LearningRateScheduler? LearningRateScheduler { get; init; }

    /// <summary>
    /// Gets where to train. Default: <see cref="TrainingDevice.Auto"/> (CUDA when available, else CPU). The run
    /// moves the model there and asks the loaders for batches there; loaders have no device of their own.
    /// </summary>
    public TrainingDevice Device { get; init; } = TrainingDevice.Auto;

    /// <summary>
    /// Gets the seed of the run. Default: 0. With a shuffling training loader
    /// (<see cref="Data.DigitDataLoaderOptions.Shuffle"/>), epoch <c>e</c> visits the images in the order of
    /// (seed, e), so the same seed, data and machine give the same numbers. Loaders have no seed of their own.
    /// </summary>
    /// <remarks>
    /// The run does not seed, read or change torch's global generator: the case study's network draws no random
    /// numbers while it trains. The initial weights are the model's, seeded where it is built
    /// (<c>new ConvNet(seed)</c>); a model that draws random numbers in its forward pass (dropout) draws them from
    /// torch's global generator, which the application seeds.
    /// </remarks>
    public long Seed { get; init; }

    /// <summary>
    /// Gets the number of CPU threads torch may use during the run, or <see langword="null"/> (the default) for
    /// the count in force. torch's thread count is process-wide: the run sets it when it starts and restores the
    /// previous count when it ends; runs asking for different counts run one after another.
    /// </summary>
    public int? Threads
    {
        get => _threads;
        init => _threads = PositiveOrNull(value, nameof(Threads));
    }

    /// <summary>
    /// Gets how many validation images are classified per forward pass, whatever the validation loader's
    /// batch size, or <see langword="null"/> (the default) to use the loader's batches. At least 1.
    /// </summary>
    /// <remarks>
    /// Accuracy and the confusion matrix are the same either way; the mean loss may differ in the last float32
    /// digits. Larger batches are not necessarily faster for the case study's network on the CPU, and very
    /// large ones can be much slower; measure on the target machine (docs/performance.md has figures).
    /// </remarks>
    public int? ValidationBatchSize
    {
        get => _validationBatchSize;
        init => _validationBatchSize = PositiveOrNull(value, nameof(ValidationBatchSize));
    }

    /// <summary>
    /// Gets the file a checkpoint is written to after every epoch (atomically: temporary name, then rename),
    /// or <see langword="null"/> (the default) for none. <see cref="Trainer.Resume"/> continues from it.
    /// Not empty or blank: such a path would only fail after the first epoch.
    /// </summary>
    public string? CheckpointPath
    {
        get;
        init
        {
            if (value is not null && string.IsNullOrWhiteSpace(value))
            {
                throw new ArgumentException("CheckpointPath must name a file, or be null for no checkpoint.", nameof(CheckpointPath));
            }

            field = value;
        }
    }

    /// <summary>Gets the callbacks invoked around the run and after every epoch, in order. Default: none.</summary>
    public IReadOnlyList<TrainingCallback> Callbacks
    {
        get => _callbacks;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Callbacks));
            if (value.Any(c => c is null))
            {
                throw new ArgumentException("Callbacks must not contain null.", nameof(Callbacks));
            }

            _callbacks = value.ToArray();
        }
    }

    /// <summary>Checks the combinations no single setter can: called by the <see cref="Trainer"/> constructor.</summary>
    /// <exception cref="ArgumentException">Two options contradict each other.</exception>
    internal void CheckCombinations(string parameterName)
    {
        if (Optimizer == TrainingOptimizer.Sgd && Nesterov && Momentum == 0)
        {
            throw new ArgumentException("TrainerOptions.Nesterov needs a TrainerOptions.Momentum above 0.", parameterName);
        }
    }

    private static int? PositiveOrNull(int? value, string name) => value is { } v ? Positive(v, name) : null;

    private static int Positive(int value, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, name);
        return value;
    }

    private static double Positive(double value, string name)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and greater than zero.");
        }

        return value;
    }

    private static double UnitInterval(double value, string name)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1).");
        }

        return value;
    }
}
