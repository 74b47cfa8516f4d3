using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Threading.Channels;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// The reliability host (tests/MnistCnn.Core.ReliabilityHost) as a child process, started with the same
/// <c>dotnet</c> as the tests (so it runs where torch loads), with its stdout lines delivered as they come.
/// </summary>
internal sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stderr = new();

    private HostProcess(Process process)
    {
        _process = process;
    }

    public static string HostPath { get; } = Path.GetFullPath(
        typeof(HostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ReliabilityHost").Value!);

    public int ExitCode => _process.ExitCode;

    public bool HasExited => _process.HasExited;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static HostProcess Start(params string[] arguments) => StartUnder([], arguments);

    /// <summary>Starts the host as the last arguments of <paramref name="launcher"/> (e.g. <c>unshare ...</c>).</summary>
    public static HostProcess StartUnder(IReadOnlyList<string> launcher, params string[] arguments)
    {
        if (!File.Exists(HostPath))
        {
            throw new FileNotFoundException($"The reliability host is not built at {HostPath}; build the solution first.", HostPath);
        }

        var start = new ProcessStartInfo(launcher.Count > 0 ? launcher[0] : DotnetPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in launcher.Skip(1).Concat(launcher.Count > 0 ? [DotnetPath()] : []))
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add(HostPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var host = new HostProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                host._lines.Writer.TryComplete();
            }
            else
            {
                host._lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (host._stderr)
            {
                host._stderr.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Returns the next stdout line, or null once the process has closed its output (exited).</summary>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken = default) =>
        await _lines.Reader.WaitToReadAsync(cancellationToken) && _lines.Reader.TryRead(out var line) ? line : null;

    /// <summary>Reads lines until one satisfies <paramref name="match"/>; null if the output ends first.</summary>
    public async Task<string?> ReadUntilAsync(Func<string, bool> match, Action<string>? seen = null)
    {
        while (await ReadLineAsync() is { } line)
        {
            seen?.Invoke(line);
            if (match(line))
            {
                return line;
            }
        }

        return null;
    }

    /// <summary>SIGKILL on Linux: no finally block, flush or handler of the child runs.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It already exited.
        }
    }

    public async Task WaitForExitAsync() => await _process.WaitForExitAsync();

    public void Dispose()
    {
        Kill();
        _process.WaitForExit();
        _process.Dispose();
    }

    // The muxer that runs the tests; the SDK passes its path to child processes as DOTNET_HOST_PATH.
    private static string DotnetPath() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";
}
