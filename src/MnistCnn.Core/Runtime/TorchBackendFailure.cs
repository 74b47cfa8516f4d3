namespace MnistCnn.Core.Runtime;

/// <summary>Why libtorch, TorchSharp's native library, could not be loaded.</summary>
public enum TorchBackendFailure
{
    /// <summary>A cause not recognised; the message carries what the system's loader reported.</summary>
    Unknown = 0,

    /// <summary>
    /// The application references no TorchSharp native backend package (<c>TorchSharp-cpu</c>,
    /// <c>TorchSharp-cuda-linux</c> or <c>TorchSharp-cuda-windows</c>), so libtorch is not next to it.
    /// </summary>
    NoBackend,

    /// <summary>
    /// The system's C++ runtime (libstdc++) is older than GCC 13's: TorchSharp's native library needs the
    /// symbol version <c>GLIBCXX_3.4.32</c> (Debian 12 and Ubuntu 22.04 lack it).
    /// </summary>
    CppRuntimeTooOld,

    /// <summary>A CUDA backend is present but its CUDA libraries could not be loaded (no usable NVIDIA driver).</summary>
    CudaDriver,
}
