namespace MnistCnn.Core.Training;

/// <summary>One step of a <see cref="LearningRateFinder"/> sweep.</summary>
public sealed record LearningRatePoint
{
    /// <summary>Gets the step's number, from 1.</summary>
    public required int Step { get; init; }

    /// <summary>Gets the learning rate the step trained with.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Gets the batch's loss before the step's update.</summary>
    public required double Loss { get; init; }

    /// <summary>Gets the exponential moving average of the losses so far, bias-corrected as in fastai's <c>lr_find</c>.</summary>
    public required double SmoothedLoss { get; init; }
}
