namespace MnistCnn.Core.Training;

/// <summary>
/// Stops a run when validation accuracy has not improved by more than <see cref="MinDelta"/> points for
/// <see cref="Patience"/> consecutive epochs. Needs a validation loader.
/// </summary>
public sealed class EarlyStopping : TrainingCallback
{
    private double _best = double.NegativeInfinity;
    private int _epochsWithoutImprovement;

    /// <summary>Initializes the callback.</summary>
    /// <param name="patience">Epochs without improvement tolerated before stopping; at least 1. Default: 3.</param>
    /// <param name="minDelta">The improvement, in accuracy points, that counts; not negative. Default: 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public EarlyStopping(int patience = 3, double minDelta = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        if (!double.IsFinite(minDelta) || minDelta < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "minDelta must be finite and not negative.");
        }

        Patience = patience;
        MinDelta = minDelta;
    }

    /// <summary>Gets the number of epochs without improvement tolerated before stopping.</summary>
    public int Patience { get; }

    /// <summary>Gets the improvement, in accuracy points, that counts.</summary>
    public double MinDelta { get; }

    /// <inheritdoc/>
    public override void OnFitStart(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _best = context.History.Select(e => e.ValidationAccuracy ?? double.NegativeInfinity).DefaultIfEmpty(double.NegativeInfinity).Max();
        _epochsWithoutImprovement = 0;
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The run has no validation loader.</exception>
    public override void OnEpochEnd(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var accuracy = context.LastEpoch?.ValidationAccuracy
            ?? throw new InvalidOperationException("EarlyStopping needs validation accuracy: pass a validation loader to Fit.");
        if (accuracy > _best + MinDelta)
        {
            _best = accuracy;
            _epochsWithoutImprovement = 0;
        }
        else if (++_epochsWithoutImprovement >= Patience)
        {
            context.RequestStop();
        }
    }
}
