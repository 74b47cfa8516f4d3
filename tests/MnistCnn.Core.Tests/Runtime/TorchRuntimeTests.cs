using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using MnistCnn.Core.Runtime;

namespace MnistCnn.Core.Tests.Runtime;

public sealed class TorchRuntimeTests
{
    // What .NET's loader reports on Debian 12 for TorchSharp 0.107.0's native library (paths shortened).
    private const string OldLibStdCxxReport =
        "Unable to load shared library 'LibTorchSharp' or one of its dependencies. In order to help diagnose loading problems, "
        + "consider using a tool like strace.\n"
        + "/app/runtimes/linux-x64/native/libLibTorchSharp.so: /lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found "
        + "(required by /app/runtimes/linux-x64/native/libLibTorchSharp.so)\n"
        + "libLibTorchSharp.so: cannot open shared object file: No such file or directory";

    private const string MissingLibTorchReport =
        "Unable to load shared library 'torch_cpu' or one of its dependencies.\n"
        + "/app/libtorch_cpu.so: cannot open shared object file: No such file or directory";

    [Fact]
    public void Describe_TestEnvironment_ReportsTheLoadedBackendAndTheMachine()
    {
        var info = TorchRuntime.Describe();

        info.IsAvailable.Should().BeTrue();
        info.Backend.Should().BeOneOf("cpu", "cuda");
        info.TorchSharpVersion.Should().Be(typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3));
        info.LibTorchVersion.Should().StartWith("2.");
        info.ProcessorCount.Should().Be(Environment.ProcessorCount);
        info.CpuInstructionSet.Should().StartWith(RuntimeInformation.ProcessArchitecture.ToString());
        if (Avx2.IsSupported)
        {
            info.CpuInstructionSet.Should().Match(s => s.EndsWith("AVX2", StringComparison.Ordinal) || s.EndsWith("AVX-512", StringComparison.Ordinal));
        }

        info.CudaAvailable.Should().Be(info.CudaDeviceCount > 0);
        if (info.Backend == "cpu")
        {
            info.CudaAvailable.Should().BeFalse();
            info.Failure.Should().BeNull();
            info.Problem.Should().BeNull();
        }
    }

    [Fact]
    public void EnsureAvailable_TorchLoads_DoesNotThrow()
    {
        var act = TorchRuntime.EnsureAvailable;

        act.Should().NotThrow();
    }

    [Fact]
    public void Classify_LibStdCxxWithoutGlibcxx3432_NamesTheCppRuntimeAndWhereItRuns()
    {
        var error = TorchRuntime.Classify(OldLibStdCxxReport, "cpu", null);

        error.Failure.Should().Be(TorchBackendFailure.CppRuntimeTooOld);
        error.Should().BeAssignableTo<InvalidOperationException>();
        error.Message.Should().Contain("libstdc++").And.Contain("GCC 13").And.Contain("GLIBCXX_3.4.32")
            .And.Contain("Debian 13").And.Contain("Ubuntu 24.04").And.Contain("container")
            .And.Contain("version `GLIBCXX_3.4.32' not found", "the loader's own line is quoted");
    }

    [Fact]
    public void Classify_NoBackendFiles_NamesThePackagesToAddWithTheirVersion()
    {
        var version = typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3);

        var error = TorchRuntime.Classify(MissingLibTorchReport, "none", null);

        error.Failure.Should().Be(TorchBackendFailure.NoBackend);
        error.Message.Should().Contain("TorchSharp-cpu").And.Contain("TorchSharp-cuda-linux").And.Contain("TorchSharp-cuda-windows")
            .And.Contain($"dotnet add package TorchSharp-cpu --version {version}");
    }

    [Fact]
    public void Classify_NoBackendOnAnOldLibStdCxx_NamesTheCppRuntimeFirst()
    {
        // Adding a backend would not help there: the C++ runtime is what must change.
        TorchRuntime.Classify(OldLibStdCxxReport, "none", null).Failure.Should().Be(TorchBackendFailure.CppRuntimeTooOld);
    }

    [Fact]
    public void Classify_CudaBackendWhoseCudaLibrariesFail_NamesTheDriver()
    {
        const string Report = "/app/libtorch_cuda.so: libcuda.so.1: cannot open shared object file: No such file or directory";

        var error = TorchRuntime.Classify(Report, "cuda", null);

        error.Failure.Should().Be(TorchBackendFailure.CudaDriver);
        error.Message.Should().Contain("NVIDIA driver").And.Contain("TorchSharp-cpu").And.Contain("libcuda.so.1");
    }

    [Fact]
    public void Classify_UnrecognisedFailure_KeepsTheLoaderReportAndTheInnerException()
    {
        var inner = new DllNotFoundException("something else");

        var error = TorchRuntime.Classify("/app/libLibTorchSharp.so: invalid ELF header", "cpu", inner);

        error.Failure.Should().Be(TorchBackendFailure.Unknown);
        error.Message.Should().Contain("invalid ELF header").And.Contain("cpu backend");
        error.InnerException.Should().BeSameAs(inner);
    }
}
