namespace MnistCnn.Core.Runtime;

/// <summary>What <see cref="TorchRuntime.Describe"/> found about libtorch and the machine in this process.</summary>
/// <param name="IsAvailable">Whether libtorch loaded, so that training and validation can run.</param>
/// <param name="Backend">
/// The native backend found next to the application: <c>cpu</c>, <c>cuda</c>, or <c>none</c> when no backend
/// package is referenced (or its files are not where the application looks for them).
/// </param>
/// <param name="TorchSharpVersion">The version of the managed TorchSharp assembly.</param>
/// <param name="LibTorchVersion">The libtorch version TorchSharp reports; <see langword="null"/> when libtorch did not load.</param>
/// <param name="CpuInstructionSet">The CPU architecture and its widest vector instructions .NET uses here, e.g. <c>x64 AVX2</c>.</param>
/// <param name="ProcessorCount">The processors available to the process.</param>
/// <param name="CudaAvailable">Whether torch reports a usable CUDA device (always <see langword="false"/> with the CPU backend).</param>
/// <param name="CudaDeviceCount">The number of CUDA devices torch reports.</param>
/// <param name="Failure">
/// Why libtorch did not load (then <paramref name="IsAvailable"/> is <see langword="false"/>), or
/// <see cref="TorchBackendFailure.CudaDriver"/> when a CUDA backend loaded but sees no usable device (the CPU still
/// works); <see langword="null"/> when nothing is wrong.
/// </param>
/// <param name="Problem">The cause and the fix, as <see cref="TorchBackendException"/> words them; <see langword="null"/> when nothing is wrong.</param>
public sealed record TorchRuntimeInfo(
    bool IsAvailable,
    string Backend,
    string TorchSharpVersion,
    string? LibTorchVersion,
    string CpuInstructionSet,
    int ProcessorCount,
    bool CudaAvailable,
    int CudaDeviceCount,
    TorchBackendFailure? Failure,
    string? Problem);
