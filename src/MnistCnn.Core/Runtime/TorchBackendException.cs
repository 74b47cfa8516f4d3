namespace MnistCnn.Core.Runtime;

/// <summary>
/// Thrown by the first library call that needs libtorch (constructing a <see cref="Models.ConvNet"/>, loading a
/// dataset, training, validating, loading or saving weights) when libtorch cannot be loaded in this process.
/// The message names the cause and the fix; <see cref="Failure"/> gives the cause to code.
/// </summary>
/// <remarks>
/// The check runs once per process; every later call that needs libtorch throws again with the same cause.
/// Calls that need no libtorch (the downloader, the IDX reader) are not affected.
/// <see cref="TorchRuntime.Describe"/> reports the same cause without throwing.
/// </remarks>
public sealed class TorchBackendException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public TorchBackendException()
        : base("libtorch, TorchSharp's native library, could not be loaded.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public TorchBackendException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TorchBackendException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance for a recognised cause.</summary>
    /// <param name="failure">Why libtorch could not be loaded.</param>
    /// <param name="message">The message naming the cause and the fix.</param>
    /// <param name="innerException">What the loader or TorchSharp threw, if anything.</param>
    public TorchBackendException(TorchBackendFailure failure, string message, Exception? innerException)
        : base(message, innerException)
    {
        Failure = failure;
    }

    /// <summary>Gets why libtorch could not be loaded.</summary>
    public TorchBackendFailure Failure { get; }
}
