namespace MnistCnn.Core.Data.Idx;

/// <summary>
/// The exception thrown when an IDX file (MNIST's file format) is malformed, or does not fit the file it
/// is paired with. The message starts with the file's path and says what is wrong.
/// </summary>
/// <remarks>
/// Derives from <see cref="IOException"/> (<see cref="InvalidDataException"/> is sealed), so one
/// <c>catch (IOException)</c> handles missing, unreadable and malformed files alike. Missing files raise
/// <see cref="FileNotFoundException"/>; I/O and permission errors (<see cref="IOException"/>,
/// <see cref="UnauthorizedAccessException"/>) pass through unchanged, naming the path: they concern the
/// file system, not the file's content. A corrupt gzip stream's <see cref="InvalidDataException"/> is kept
/// as <see cref="Exception.InnerException"/>.
/// </remarks>
public sealed class IdxFormatException : IOException
{
    /// <summary>Initializes a new instance with a default message and no file or reason.</summary>
    public IdxFormatException()
        : this("The IDX file is malformed.")
    {
    }

    /// <summary>Initializes a new instance with a message and no file or reason.</summary>
    /// <param name="message">The message.</param>
    public IdxFormatException(string message)
        : this(message, null)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception that caused it, and no file or reason.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause, or <see langword="null"/>.</param>
    public IdxFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
        FilePath = string.Empty;
    }

    /// <summary>Initializes a new instance for a file; the message is <c>"{filePath}: {detail}"</c>.</summary>
    /// <param name="filePath">The path of the malformed file.</param>
    /// <param name="reason">What is wrong, as a value code can test.</param>
    /// <param name="detail">What is wrong, for people: the declared and actual values.</param>
    /// <param name="innerException">The cause (e.g. the decompressor's error), or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="filePath"/> or <paramref name="detail"/> is null or empty.</exception>
    public IdxFormatException(string filePath, IdxFormatError reason, string detail, Exception? innerException = null)
        : base(Compose(filePath, detail), innerException)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>Gets the path of the malformed file, or an empty string when none was given.</summary>
    public string FilePath { get; }

    /// <summary>Gets what is wrong with the file.</summary>
    public IdxFormatError Reason { get; }

    private static string Compose(string filePath, string detail)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        ArgumentException.ThrowIfNullOrEmpty(detail);
        return $"{filePath}: {detail}";
    }
}
