using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using TorchSharp;

namespace MnistCnn.Core.Runtime;

/// <summary>
/// Reports whether libtorch, TorchSharp's native library, can run in this process, with which backend, and on
/// what machine. The library checks the same thing once, at the first call that needs libtorch, and throws
/// <see cref="TorchBackendException"/> naming the cause and the fix when it cannot load.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<TorchBackendException?> LoadFailure = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Describes the libtorch runtime of this process: whether it loads, the backend, the versions, the CPU's
    /// instruction set and the CUDA devices. Never throws for a missing or broken backend: it reports it in
    /// <see cref="TorchRuntimeInfo.Failure"/> and <see cref="TorchRuntimeInfo.Problem"/>.
    /// </summary>
    /// <returns>The description; the first call loads libtorch if it can (as the first training call would).</returns>
    public static TorchRuntimeInfo Describe()
    {
        var failure = LoadFailure.Value;
        var backend = FindBackend();
        var (cudaAvailable, cudaDevices) = failure is null ? CudaDevices() : (false, 0);
        if (failure is null && backend == "cuda" && !cudaAvailable)
        {
            failure = CudaUnusable();
        }

        return new TorchRuntimeInfo
        {
            IsAvailable = LoadFailure.Value is null,
            Backend = backend,
            TorchSharpVersion = TorchSharpVersion,
            // Any member of TorchSharp's torch class initialises libtorch first, so only once it has loaded.
            LibTorchVersion = LoadFailure.Value is null ? torch.__version__ : null,
            CpuInstructionSet = CpuInstructionSet(),
            ProcessorCount = Environment.ProcessorCount,
            CudaAvailable = cudaAvailable,
            CudaDeviceCount = cudaDevices,
            Failure = failure?.Failure,
            Problem = failure?.Message,
        };
    }

    /// <summary>The version of the managed TorchSharp assembly, e.g. 0.107.0: the version a backend package must have.</summary>
    internal static string TorchSharpVersion => typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "?";

    /// <summary>Throws <see cref="TorchBackendException"/> when libtorch cannot load; checked once per process.</summary>
    /// <exception cref="TorchBackendException">libtorch cannot be loaded; the message names the cause and the fix.</exception>
    internal static void EnsureAvailable()
    {
        if (LoadFailure.Value is { } failure)
        {
            // A new exception per call, so that each carries its own stack trace.
            throw new TorchBackendException(failure.Failure, failure.Message, failure.InnerException);
        }
    }

    /// <summary>Returns <paramref name="value"/> after <see cref="EnsureAvailable"/>: for constructor initializers.</summary>
    internal static T Checked<T>(T value)
    {
        EnsureAvailable();
        return value;
    }

    /// <summary>Names the cause of a load failure and its fix from what the system's loader reported.</summary>
    /// <param name="loaderReport">The loader's messages for the libraries tried.</param>
    /// <param name="backend"><c>cpu</c>, <c>cuda</c> or <c>none</c>, as <see cref="FindBackend"/> found it.</param>
    /// <param name="innerException">What was thrown, if anything.</param>
    internal static TorchBackendException Classify(string loaderReport, string backend, Exception? innerException)
    {
        var version = TorchSharpVersion;
        if ((Evidence(loaderReport, "GLIBCXX_") ?? Evidence(loaderReport, "CXXABI_")) is { } symbol)
        {
            return new TorchBackendException(
                TorchBackendFailure.CppRuntimeTooOld,
                $"libtorch could not be loaded: this system's C++ runtime (libstdc++) is older than GCC 13's, and TorchSharp {version}'s "
                + "native library needs its symbol version GLIBCXX_3.4.32 (Debian 12 and Ubuntu 22.04 lack it). Run on Debian 13+, "
                + "Ubuntu 24.04+, Fedora 39+ or Windows, or in a container based on one (e.g. the debian:trixie or ubuntu:24.04 images). "
                + $"The loader said: {symbol}",
                innerException);
        }

        if (backend == "none")
        {
            return new TorchBackendException(
                TorchBackendFailure.NoBackend,
                "libtorch could not be loaded: the application references no TorchSharp native backend. Add exactly one backend "
                + $"package, version {version} like the TorchSharp that MnistCnn.Core uses: TorchSharp-cpu (any CPU), or "
                + $"TorchSharp-cuda-linux / TorchSharp-cuda-windows (NVIDIA GPU); e.g. dotnet add package TorchSharp-cpu --version {version}",
                innerException);
        }

        if (backend == "cuda" && Evidence(loaderReport, "cuda") is { } cuda)
        {
            return new TorchBackendException(
                TorchBackendFailure.CudaDriver,
                "libtorch could not be loaded: the CUDA backend is present but its CUDA libraries do not load. Install an NVIDIA "
                + "driver that supports the backend's CUDA version (nvidia-smi should list the GPU), or reference TorchSharp-cpu "
                + $"instead of the CUDA backend. The loader said: {cuda}",
                innerException);
        }

        return new TorchBackendException(
            TorchBackendFailure.Unknown,
            $"libtorch could not be loaded ({backend} backend, TorchSharp {version}). The loader said: {loaderReport.Trim()}",
            innerException);
    }

    /// <summary>Why a CUDA backend that loaded sees no device, with the loader's word on libtorch's CUDA part.</summary>
    private static TorchBackendException CudaUnusable()
    {
        var report = new List<string>();
        var evidence = TryLoad("torch_cuda", report) ? "torch reports no CUDA device" : $"the loader said: {report[0].Trim()}";
        return new TorchBackendException(
            TorchBackendFailure.CudaDriver,
            "The CUDA backend is present but no CUDA device is usable, so training runs on the CPU (TrainingDevice.Auto) or "
            + "fails (TrainingDevice.Cuda). Install an NVIDIA driver that supports the backend's CUDA version (nvidia-smi should "
            + $"list the GPU), or reference TorchSharp-cpu instead; {evidence}.",
            null);
    }

    private static TorchBackendException? Load()
    {
        var backend = FindBackend();
        var report = new List<string>();
        try
        {
            // As TorchSharp does: libtorch first, then its own native library, which depends on it. TorchSharp keeps
            // the loader's reasons to itself; asking the loader the same way gives the reason to the user.
            TryLoad("torch_cpu", report);
            if (!TryLoad("LibTorchSharp", report))
            {
                return Classify(string.Join(Environment.NewLine, report), backend, null);
            }

            torch.InitializeDeviceType(DeviceType.CPU);
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or NotSupportedException or TypeInitializationException
                                      or BadImageFormatException or EntryPointNotFoundException or InvalidOperationException)
        {
            report.Add((e.InnerException ?? e).Message);
            return Classify(string.Join(Environment.NewLine, report), backend, e);
        }
    }

    private static bool TryLoad(string name, List<string> report)
    {
        var assembly = typeof(torch).Assembly;
        if (NativeLibrary.TryLoad(name, assembly, null, out _))
        {
            return true;
        }

        try
        {
            // TryLoad gives no reason; Load reports what the loader said for every path it tried.
            NativeLibrary.Load(name, assembly, null);
            return true;
        }
        catch (DllNotFoundException e)
        {
            report.Add(e.Message);
            return false;
        }
    }

    /// <summary>Which backend's libtorch files are where the application looks for native libraries.</summary>
    private static string FindBackend()
    {
        var folders = (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Append(AppContext.BaseDirectory)
            .Append(Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native"))
            .Where(Directory.Exists)
            .ToList();
        bool Has(string library) => folders.Any(f => File.Exists(Path.Combine(f, NativeFileName(library))));
        return Has("torch_cuda") ? "cuda" : Has("torch_cpu") ? "cpu" : "none";
    }

    private static string NativeFileName(string library) =>
        OperatingSystem.IsWindows() ? library + ".dll" : OperatingSystem.IsMacOS() ? $"lib{library}.dylib" : $"lib{library}.so";

    /// <summary>The first line of <paramref name="report"/> that mentions <paramref name="word"/>, trimmed.</summary>
    private static string? Evidence(string report, string word) =>
        report.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains(word, StringComparison.OrdinalIgnoreCase));

    private static (bool Available, int Devices) CudaDevices()
    {
        try
        {
            return torch.cuda.is_available() ? (true, torch.cuda.device_count()) : (false, 0);
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException or NotSupportedException)
        {
            return (false, 0);
        }
    }

    private static string CpuInstructionSet()
    {
        var architecture = RuntimeInformation.ProcessArchitecture;
        var widest = architecture switch
        {
            Architecture.X64 when Avx512F.IsSupported => "AVX-512",
            Architecture.X64 when Avx2.IsSupported => "AVX2",
            Architecture.X64 when Avx.IsSupported => "AVX",
            Architecture.X64 => "SSE",
            Architecture.Arm64 when AdvSimd.IsSupported => "AdvSIMD",
            _ => null,
        };
        return widest is null ? architecture.ToString() : $"{architecture} {widest}";
    }
}
