using System.Globalization;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>What the figures are printed beside: the CPU and the load average.</summary>
internal static class Machine
{
    /// <summary>Gets the 1, 5 and 15 minute load averages, e.g. "1.20 0.80 0.50".</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>Gets the CPU's model name, its AVX-512 support and the core count.</summary>
    public static string Cpu()
    {
        if (!File.Exists("/proc/cpuinfo"))
        {
            return $"unknown CPU ({Environment.ProcessorCount} cores)";
        }

        var lines = File.ReadLines("/proc/cpuinfo").ToList();
        var model = lines.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var flags = lines.FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
        var isa = flags.Contains(" avx512f", StringComparison.Ordinal) ? "AVX-512" : flags.Contains(" avx2", StringComparison.Ordinal) ? "AVX2" : "no AVX2";
        return string.Create(CultureInfo.InvariantCulture, $"{model}, {isa}, {Environment.ProcessorCount} cores");
    }
}
