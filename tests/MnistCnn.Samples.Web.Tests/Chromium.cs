using Microsoft.Playwright;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>
/// The system's Chromium, headless, driven by Playwright without downloading a browser of its own; started
/// once for all tests of a class (each test opens its own page).
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    private IPlaywright? _playwright;

    /// <summary>
    /// Gets the browser executable: <c>MNISTCNN_CHROMIUM</c> when set, else /usr/bin/chromium (Debian's
    /// chromium package, which ./build.sh web-test installs when it is missing).
    /// </summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("MNISTCNN_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Gets the running browser.</summary>
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var executable = ExecutablePath;
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"No browser at {executable}: install Debian's chromium package (./build.sh web-test does, as root) or set MNISTCNN_CHROMIUM.");
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
