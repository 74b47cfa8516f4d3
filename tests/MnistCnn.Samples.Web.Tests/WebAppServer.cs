using Microsoft.AspNetCore.Builder;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>
/// The web sample as it runs for users: built by <see cref="DigitWebApp.Create"/>, served by Kestrel on a
/// free loopback port. Shared by every test of the <see cref="SharedWebApp"/> with the default settings, or
/// started by a test with its own (<see cref="StartAsync"/>).
/// </summary>
public sealed class WebAppServer : IAsyncLifetime, IAsyncDisposable
{
    private readonly string[] _settings;
    private WebApplication? _app;

    public WebAppServer()
        : this([])
    {
    }

    private WebAppServer(string[] settings) => _settings = settings;

    /// <summary>Gets the server's address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Gets a client of the server; a bounded timeout so a hung request fails the test.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>Gets the running app (its services, for tests that look inside).</summary>
    public WebApplication App => _app ?? throw new InvalidOperationException("The server is not started.");

    /// <summary>Starts a server of its own with <paramref name="settings"/> (command-line arguments) added to the defaults.</summary>
    public static async Task<WebAppServer> StartAsync(params string[] settings)
    {
        var server = new WebAppServer(settings);
        await server.InitializeAsync();
        return server;
    }

    public async Task InitializeAsync()
    {
        _app = DigitWebApp.Create(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning", .. _settings]);
        await _app.StartAsync();
        // Port 0 asks Kestrel for a free port; the address it bound is reported once started.
        Address = new Uri(_app.Urls.Single() + "/");
        Client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
}
