namespace MnistCnn.Core.Models;

/// <summary>
/// Thrown when a weights or checkpoint file cannot be used: it is damaged or truncated, is not in the
/// expected format, or was written from a model of another architecture. The message names the file.
/// </summary>
public sealed class ModelFileException : IOException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public ModelFileException()
        : base("The model file cannot be used.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public ModelFileException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ModelFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance naming the file and the reason.</summary>
    /// <param name="filePath">The file.</param>
    /// <param name="reason">What is wrong with it.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ModelFileException(string filePath, string reason, Exception? innerException = null)
        : base($"{filePath}: {reason}", innerException)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>Gets the file that cannot be used.</summary>
    public string? FilePath { get; }

    /// <summary>Gets what is wrong with the file.</summary>
    public string? Reason { get; }
}
