namespace MnistCnn.Core.Training;

/// <summary>
/// A hook into <see cref="ITrainer.Fit"/>. Every method does nothing until overridden.
/// </summary>
public abstract class TrainingCallback
{
    /// <summary>Called once before the first epoch of a run (also of a resumed run).</summary>
    /// <param name="context">The run's state.</param>
    public virtual void OnFitStart(TrainingContext context)
    {
    }

    /// <summary>Called after every epoch, after validation and before the checkpoint is written.</summary>
    /// <param name="context">The run's state; <see cref="TrainingContext.RequestStop"/> ends the run after this epoch.</param>
    public virtual void OnEpochEnd(TrainingContext context)
    {
    }

    /// <summary>Called once when a run ends normally or by a stop request (not when it throws).</summary>
    /// <param name="context">The run's state.</param>
    public virtual void OnFitEnd(TrainingContext context)
    {
    }
}
