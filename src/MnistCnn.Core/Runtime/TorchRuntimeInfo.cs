namespace MnistCnn.Core.Runtime;

/// <summary>What <see cref="TorchRuntime.Describe"/> found about libtorch and the machine in this process.</summary>
/// <remarks>
/// Init-only properties rather than a positional record, so that a field added in a later version breaks no caller
/// (no constructor or <c>Deconstruct</c> changes shape).
/// </remarks>
public sealed record TorchRuntimeInfo
{
    /// <summary>Whether libtorch loaded, so that training and validation can run.</summary>
    public required bool IsAvailable { get; init; }

    /// <summary>
    /// The native backend found next to the application: <c>cpu</c>, <c>cuda</c>, or <c>none</c> when no backend
    /// package is referenced (or its files are not where the application looks for them).
    /// </summary>
    public required string Backend { get; init; }

    /// <summary>The version of the managed TorchSharp assembly.</summary>
    public required string TorchSharpVersion { get; init; }

    /// <summary>The libtorch version TorchSharp reports; <see langword="null"/> when libtorch did not load.</summary>
    public string? LibTorchVersion { get; init; }

    /// <summary>The CPU architecture and its widest vector instructions .NET uses here, e.g. <c>x64 AVX2</c>.</summary>
    public required string CpuInstructionSet { get; init; }

    /// <summary>The processors available to the process.</summary>
    public int ProcessorCount { get; init; }

    /// <summary>Whether torch reports a usable CUDA device (always <see langword="false"/> with the CPU backend).</summary>
    public bool CudaAvailable { get; init; }

    /// <summary>The number of CUDA devices torch reports.</summary>
    public int CudaDeviceCount { get; init; }

    /// <summary>
    /// Why libtorch did not load (then <see cref="IsAvailable"/> is <see langword="false"/>), or
    /// <see cref="TorchBackendFailure.CudaDriver"/> when a CUDA backend loaded but sees no usable device (the CPU still
    /// works); <see langword="null"/> when nothing is wrong.
    /// </summary>
    public TorchBackendFailure? Failure { get; init; }

    /// <summary>The cause and the fix, as <see cref="TorchBackendException"/> words them; <see langword="null"/> when nothing is wrong.</summary>
    public string? Problem { get; init; }
}
