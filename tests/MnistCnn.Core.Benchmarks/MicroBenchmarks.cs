using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace MnistCnn.Core.Benchmarks;

/// <summary>Runs the BenchmarkDotNet micro-benchmarks: short runs, in process.</summary>
internal static class MicroBenchmarks
{
    public static int Run(string[] args)
    {
        // In process: a generated child project would have to find libtorch and the data again, and the
        // short job keeps a full pass to a few minutes (these are not part of CI).
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .WithArtifactsPath(Path.Combine("artifacts", "bench", "micro"))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summaries = BenchmarkSwitcher.FromTypes([typeof(HotPathBenchmarks), typeof(SigmoidBenchmarks)])
            .Run(args.Length == 0 ? ["--filter", "*"] : args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }
}
