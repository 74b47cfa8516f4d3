using System.Diagnostics;

namespace MnistCnn.Samples.Wasm.Tests;

/// <summary>
/// eng/MnistCnn.StaticHost serving the published app on a free loopback port, as a process of its own, so a test
/// can stop the server while the page stays open.
/// </summary>
internal sealed class StaticHostProcess : IDisposable
{
    private readonly Process _process;

    private StaticHostProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    /// <summary>Gets the address the app is served at.</summary>
    public Uri Address { get; }

    /// <summary>Starts the server and waits for the line that names its address.</summary>
    public static async Task<StaticHostProcess> StartAsync()
    {
        if (!File.Exists(Path.Combine(Repository.AppFolder, "index.html")))
        {
            throw new InvalidOperationException($"No published app in {Repository.AppFolder}: ./build.sh wasm-test publishes it first.");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Repository.StaticHost, Repository.AppFolder, "--urls", "http://127.0.0.1:0" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                var at = line.LastIndexOf(" at ", StringComparison.Ordinal);
                if (line.StartsWith("Serving ", StringComparison.Ordinal) && at > 0)
                {
                    return new StaticHostProcess(process, new Uri(line[(at + 4)..].TrimEnd('/') + "/"));
                }
            }

            throw new InvalidOperationException($"The static host stopped before serving: {await process.StandardError.ReadToEndAsync()}");
        }
        catch
        {
            Stop(process);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Stops the server (the page already loaded keeps running).</summary>
    public void Stop() => Stop(_process);

    public void Dispose()
    {
        Stop(_process);
        _process.Dispose();
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit();
        }
    }
}
