namespace MnistCnn.Core.Training;

/// <summary>
/// Options of a <see cref="LearningRateFinder"/> sweep. The defaults are fastai's <c>lr_find</c>: 100 steps from
/// 1e-7 to 10, an exponential moving average of the loss with factor 0.98, and a stop once the smoothed loss
/// exceeds 4 times its lowest value.
/// </summary>
/// <remarks>Every setter validates its value and throws <see cref="ArgumentOutOfRangeException"/> when it is out of range.</remarks>
public sealed record LearningRateFinderOptions
{
    private readonly double _startLearningRate = 1e-7;
    private readonly double _endLearningRate = 10;
    private readonly int _steps = 100;
    private readonly double _smoothing = 0.98;
    private readonly double _divergenceFactor = 4;

    /// <summary>Gets the learning rate of the first step. Default: 1e-7. Finite and greater than zero.</summary>
    public double StartLearningRate
    {
        get => _startLearningRate;
        init => _startLearningRate = double.IsFinite(value) && value > 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(StartLearningRate), value, "The start learning rate must be finite and greater than zero.");
    }

    /// <summary>
    /// Gets the learning rate of the last step; the rates in between grow by the same factor each step.
    /// Default: 10. Finite and greater than zero; the sweep checks that it exceeds <see cref="StartLearningRate"/>.
    /// </summary>
    public double EndLearningRate
    {
        get => _endLearningRate;
        init => _endLearningRate = double.IsFinite(value) && value > 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(EndLearningRate), value, "The end learning rate must be finite and greater than zero.");
    }

    /// <summary>Gets the number of training steps (batches) of the sweep. Default: 100. At least 5.</summary>
    public int Steps
    {
        get => _steps;
        init => _steps = value >= 5
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Steps), value, "The sweep needs at least 5 steps.");
    }

    /// <summary>
    /// Gets the factor of the loss's exponential moving average (0 for the raw batch losses), which the stop and the
    /// suggestion read. Default: 0.98. In [0, 1).
    /// </summary>
    public double Smoothing
    {
        get => _smoothing;
        init => _smoothing = value is >= 0 and < 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Smoothing), value, "The smoothing factor must be in [0, 1).");
    }

    /// <summary>
    /// Gets how many times its lowest value the smoothed loss may reach before the sweep stops as diverged.
    /// Default: 4. Finite and greater than 1.
    /// </summary>
    public double DivergenceFactor
    {
        get => _divergenceFactor;
        init => _divergenceFactor = double.IsFinite(value) && value > 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(DivergenceFactor), value, "The divergence factor must be finite and greater than 1.");
    }
}
