using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Diagnostics.NETCore.Client;

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

    /// <summary>The runtime provider's keyword that makes it collect the heap when a session enables it.</summary>
    private const long GCHeapCollectKeyword = 0x800000;

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

    /// <summary>
    /// Makes the server run a full, blocking garbage collection, as a heap-snapshot tool does (an EventPipe session
    /// enabling the runtime provider's GCHeapCollect keyword: no hook in the app), then reads the managed heap it left
    /// from the app's /metrics (<c>dotnet_gc_last_collection_heap_size_bytes</c> less
    /// <c>dotnet_gc_last_collection_heap_fragmentation_size_bytes</c> of the System.Runtime meter, summed over the
    /// generations: the objects the collection kept, not the free space between them). Throws when no new gen2 collection shows up within 30 s, so a reading is always one taken
    /// after a full collection.
    /// </summary>
    public async Task<long> HeapAfterFullCollectionAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var before = Gen2Collections(await client.GetStringAsync("metrics", cancellationToken));
        var diagnostics = new DiagnosticsClient(_process.Id);
        EventPipeProvider[] providers = [new("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GCHeapCollectKeyword)];
        using (var session = diagnostics.StartEventPipeSession(providers, requestRundown: false))
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                var metrics = await client.GetStringAsync("metrics", cancellationToken);
                if (Gen2Collections(metrics) > before)
                {
                    await session.StopAsync(cancellationToken);
                    return Sum(HeapSizes(), metrics) - Sum(HeapFragmentation(), metrics);
                }

                if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException($"The server ran no gen2 collection within 30 s of the request (gen2 collections: {before}).");
                }

                await Task.Delay(100, cancellationToken);
            }
        }
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

    private static long Sum(Regex lines, string metrics) =>
        lines.Matches(metrics).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    private static long Gen2Collections(string metrics) =>
        Gen2CollectionsLine().Match(metrics) is { Success: true } match ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    [GeneratedRegex("""^dotnet_gc_collections_total\{[^}]*gc_heap_generation="gen2"[^}]*\} (\d+)""", RegexOptions.Multiline)]
    private static partial Regex Gen2CollectionsLine();

    [GeneratedRegex("""^dotnet_gc_last_collection_heap_size_bytes\{[^}]*\} (\d+)""", RegexOptions.Multiline)]
    private static partial Regex HeapSizes();

    [GeneratedRegex("""^dotnet_gc_last_collection_heap_fragmentation_size_bytes\{[^}]*\} (\d+)""", RegexOptions.Multiline)]
    private static partial Regex HeapFragmentation();
}
