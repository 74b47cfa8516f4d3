using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>
/// The web sample as a process of its own (the built app beside the tests, started with the same
/// <c>dotnet</c>) on a free loopback port, so its resident memory is its own and can be read from
/// /proc/&lt;pid&gt;/status. Its console log is kept; disposing kills it.
/// </summary>
internal sealed partial class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    private ServerProcess(Process process) => _process = process;

    /// <summary>
    /// Settings for a server under load from one loopback address: a per-client limit no load here reaches, so
    /// the limiter's cost is in the figures but it refuses nothing.
    /// </summary>
    public static readonly string[] NoRateLimit = ["--Service:RatePerSecond", "1000000", "--Service:RateBurst", "1000000"];

    /// <summary>Gets the address the server listens on, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Gets the process id.</summary>
    public int Id => _process.Id;

    /// <summary>Gets whether the process is still running.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>Gets the lines the server has written to stdout and stderr so far.</summary>
    public IReadOnlyCollection<string> Log => _log;

    /// <summary>
    /// Starts the app with its request logging off (Warning and above, plus the line naming the address) and
    /// waits until it listens; throws with its output when it exits or does not listen within a minute.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(params string[] settings)
    {
        var app = Path.Combine(AppContext.BaseDirectory, "MnistCnn.Samples.Web.dll");
        var start = new ProcessStartInfo(DotnetPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in (string[])[app, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning",
                     "--Logging:LogLevel:Microsoft.Hosting.Lifetime", "Information", "--Logging:Console:ColorBehavior", "Disabled", .. settings])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {app}.");
        var server = new ServerProcess(process);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            server._log.Enqueue(line);
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value + "/"));
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromMinutes(1)));
        if (first != listening.Task)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit();
            process.Dispose();
            throw new InvalidOperationException($"The web app did not start listening:{Environment.NewLine}{string.Join(Environment.NewLine, server._log)}");
        }

        server.Address = await listening.Task;
        return server;
    }

    /// <summary>Reads a size field of /proc/&lt;pid&gt;/status (VmRSS: resident now, VmHWM: the peak), in bytes.</summary>
    public long ReadStatusBytes(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var kilobytes = line[(field.Length + 1)..].Trim().Split(' ')[0];
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{_process.Id}/status has no field {field}.");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit();
        _process.Dispose();
    }

    // The muxer that runs the tests; the SDK passes its path to child processes as DOTNET_HOST_PATH.
    private static string DotnetPath() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
