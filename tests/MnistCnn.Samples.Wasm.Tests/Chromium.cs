using Microsoft.Playwright;

namespace MnistCnn.Samples.Wasm.Tests;

/// <summary>
/// The system's Chromium, headless, driven by Playwright without downloading a browser of its own; started once
/// for all tests of a class (each test opens its own browser context, so every page is a first visit).
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    private IPlaywright? _playwright;

    /// <summary>Gets the running browser.</summary>
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // MNISTCNN_CHROMIUM when set, else Debian's chromium package (./build.sh wasm-test installs it when missing).
        var executable = Environment.GetEnvironmentVariable("MNISTCNN_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"No browser at {executable}: install Debian's chromium package (./build.sh wasm-test does, as root) or set MNISTCNN_CHROMIUM.");
        }

        _playwright = await Playwright.CreateAsync();
        // --no-sandbox: Chromium's sandbox refuses to run as root, which CI does.
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = executable,
            Headless = true,
            Args = ["--no-sandbox"],
            Timeout = 60_000,
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
