namespace MnistCnn.Samples.Wasm.Tests;

/// <summary>The published app served on a loopback port, and a headless Chromium, for all tests of a class.</summary>
public sealed class WasmApp : IAsyncLifetime
{
    private StaticHostProcess? _host;

    /// <summary>Gets the address the app is served at.</summary>
    public Uri Address => _host!.Address;

    /// <summary>Gets the browser.</summary>
    public Chromium Chromium { get; } = new();

    public async Task InitializeAsync()
    {
        _host = await StaticHostProcess.StartAsync();
        await Chromium.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        _host?.Dispose();
    }
}
