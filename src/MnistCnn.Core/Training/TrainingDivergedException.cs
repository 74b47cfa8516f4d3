namespace MnistCnn.Core.Training;

/// <summary>Thrown when a training loss becomes NaN or infinite; the run stops at that batch.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public TrainingDivergedException()
        : base("The training loss is not finite.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public TrainingDivergedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TrainingDivergedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance naming where the loss diverged.</summary>
    /// <param name="epoch">The epoch, starting at 1.</param>
    /// <param name="batch">The batch within the epoch, starting at 1.</param>
    /// <param name="loss">The non-finite loss.</param>
    public TrainingDivergedException(int epoch, int batch, double loss)
        : base($"The training loss became {loss} at epoch {epoch}, batch {batch}; lower the learning rate or check the data.")
    {
        Epoch = epoch;
        Batch = batch;
        Loss = loss;
    }

    /// <summary>Gets the epoch in which the loss diverged, starting at 1.</summary>
    public int Epoch { get; }

    /// <summary>Gets the batch at which the loss diverged, starting at 1.</summary>
    public int Batch { get; }

    /// <summary>Gets the non-finite loss.</summary>
    public double Loss { get; }
}
