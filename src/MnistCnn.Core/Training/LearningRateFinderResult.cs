namespace MnistCnn.Core.Training;

/// <summary>What a <see cref="LearningRateFinder"/> sweep measured, and the learning rate it suggests.</summary>
public sealed record LearningRateFinderResult
{
    /// <summary>Gets the sweep's steps in order (fewer than asked for when it stopped as diverged).</summary>
    public required IReadOnlyList<LearningRatePoint> Points { get; init; }

    /// <summary>
    /// Gets the suggested learning rate: where the smoothed loss falls fastest against the logarithm of the rate,
    /// before its minimum (Lightning's rule; the first tenth of the sweep, still dominated by noise, is skipped).
    /// When too few points precede the minimum, a tenth of <see cref="MinimumLossLearningRate"/> (fastai's rule).
    /// </summary>
    public required double SuggestedLearningRate { get; init; }

    /// <summary>Gets the learning rate at the lowest smoothed loss.</summary>
    public required double MinimumLossLearningRate { get; init; }

    /// <summary>
    /// Gets a value indicating whether the sweep stopped early because the loss diverged (it became NaN or
    /// infinite, or the smoothed loss exceeded <see cref="LearningRateFinderOptions.DivergenceFactor"/> times its lowest value).
    /// </summary>
    public required bool Diverged { get; init; }
}
