using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Playwright;

namespace MnistCnn.Samples.Wasm.Tests;

/// <summary>What the page shows for the drawing on its pad, and the pad's pixels it was computed from.</summary>
internal sealed record PageAnswer(int Digit, bool IsLikelyDigit, float[] Probabilities, double PreparationMs, double NetworkMs, byte[] Grey);

/// <summary>
/// Milliseconds from the start of navigation: the last framework file received before the first render (the
/// runtime starts while files still arrive), the page's first render (runtime and Blazor started), the model
/// read, the network warmed up (a few predictions of a blank digit), and the pad ready to predict (pad.js attached).
/// </summary>
internal sealed record ReadyBreakdown(double FrameworkDownloadedMs, double RenderedMs, double ModelLoadedMs, double WarmedUpMs, double ReadyMs)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"framework files received by {FrameworkDownloadedMs:0} ms, first render at {RenderedMs:0} ms, model read by {ModelLoadedMs:0} ms ({ModelLoadedMs - RenderedMs:0} ms), network warmed up by {WarmedUpMs:0} ms ({WarmedUpMs - ModelLoadedMs:0} ms), pad ready at {ReadyMs:0} ms");
}

/// <summary>
/// The browser sample open in a fresh browser context (a first visit: nothing cached), with every request the
/// page makes, every console error and every uncaught exception recorded.
/// </summary>
internal sealed class PadPage : IAsyncDisposable
{
    /// <summary>The pad's side in pixels (its canvas is square).</summary>
    public const int PadSide = 320;

    private readonly IBrowserContext _context;
    private readonly ConcurrentQueue<IRequest> _requests = new();
    private readonly ConcurrentQueue<IRequest> _finished = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private int _requestsAtReady;

    private PadPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
    }

    /// <summary>Gets the page.</summary>
    public IPage Page { get; }

    /// <summary>Gets the milliseconds from the start of navigation to the moment the page could first predict.</summary>
    public double ReadyMs { get; private set; }

    /// <summary>Gets where the time to <see cref="ReadyMs"/> went.</summary>
    public ReadyBreakdown ReadyBreakdown { get; private set; } = new(0, 0, 0, 0, 0);

    /// <summary>Gets the console errors and uncaught exceptions seen so far.</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    /// <summary>Gets the URLs of the requests the page made after it became ready to predict.</summary>
    public IReadOnlyList<string> RequestsSinceReady => [.. _requests.Skip(_requestsAtReady).Select(r => r.Url)];

    /// <summary>Opens the page and waits until it can predict.</summary>
    public static async Task<PadPage> OpenAsync(IBrowser browser, Uri address)
    {
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 900, Height = 860 } });
        var page = await context.NewPageAsync();
        var pad = new PadPage(context, page);
        page.Request += (_, request) => pad._requests.Enqueue(request);
        page.RequestFinished += (_, request) => pad._finished.Enqueue(request);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                pad._errors.Enqueue(message.Text);
            }
        };
        page.PageError += (_, error) => pad._errors.Enqueue(error);
        page.SetDefaultTimeout(30_000);
        await page.GotoAsync(address.ToString());
        await page.Locator("#pad[data-ready=true]").WaitForAsync(new() { Timeout = 90_000 });
        pad.ReadyMs = await page.EvaluateAsync<double>("() => performance.getEntriesByName('digit-pad-ready')[0].startTime");
        var marks = await page.EvaluateAsync<double[]>(
            """
            () => {
              const at = name => performance.getEntriesByName(name)[0]?.startTime ?? -1;
              const framework = performance.getEntriesByType('resource').filter(r => r.name.includes('/_framework/') && r.responseEnd <= at('digit-pad-rendered'));
              return [Math.max(0, ...framework.map(r => r.responseEnd)), at('digit-pad-rendered'), at('digit-pad-model-loaded'), at('digit-pad-warmed-up')];
            }
            """);
        pad.ReadyBreakdown = new ReadyBreakdown(marks[0], marks[1], marks[2], marks[3], pad.ReadyMs);
        pad._requestsAtReady = pad._requests.Count;
        return pad;
    }

    /// <summary>
    /// Gets the bytes the page received until it was ready (response headers and bodies as transferred, i.e.
    /// compressed where the server compressed them), and the count of responses per content encoding.
    /// </summary>
    public async Task<(long Bytes, int Requests, IReadOnlyDictionary<string, int> Encodings)> FirstVisitTransferAsync()
    {
        var finished = _finished.ToArray();
        long bytes = 0;
        var encodings = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var request in finished)
        {
            var sizes = await request.SizesAsync();
            bytes += sizes.ResponseHeadersSize + sizes.ResponseBodySize;
            var response = await request.ResponseAsync();
            var encoding = response is null ? "none" : await response.HeaderValueAsync("content-encoding") ?? "identity";
            encodings[encoding] = encodings.GetValueOrDefault(encoding) + 1;
        }

        return (bytes, finished.Length, encodings);
    }

    /// <summary>Draws strokes on the pad with real pointer events (points in fractions of the pad's side).</summary>
    public async Task DrawAsync(IEnumerable<(double X, double Y)[]> strokes)
    {
        var pad = await Page.Locator("#pad").BoundingBoxAsync() ?? throw new InvalidOperationException("The drawing pad is not visible.");
        foreach (var stroke in strokes)
        {
            var (startX, startY) = At(pad, stroke[0]);
            await Page.Mouse.MoveAsync(startX, startY);
            await Page.Mouse.DownAsync();
            foreach (var point in stroke.Skip(1))
            {
                var (x, y) = At(pad, point);
                await Page.Mouse.MoveAsync(x, y, new() { Steps = 10 });
            }

            await Page.Mouse.UpAsync();
        }
    }

    /// <summary>Clears the pad with its Clear button.</summary>
    public Task ClearAsync() => Page.GetByRole(AriaRole.Button, new() { Name = "Clear" }).ClickAsync();

    /// <summary>Waits until the page shows the answer for the drawing as it is now, and reads it with the pad's pixels.</summary>
    public async Task<PageAnswer> AnswerAsync()
    {
        var result = Page.Locator("#result[data-state=ready]");
        await result.WaitForAsync(new() { Timeout = 30_000 });
        var shown = await Page.EvaluateAsync<string[]>(
            """
            () => {
              const result = document.getElementById('result');
              const timing = document.getElementById('timing');
              return [document.getElementById('digit').textContent, result.dataset.likelyDigit,
                      document.getElementById('bars').dataset.probabilities, timing.dataset.preparationMs, timing.dataset.networkMs];
            }
            """);
        // The pad's pixels as the page reads them (the red channel: the pad holds only greys), in base64.
        var grey = await Page.EvaluateAsync<string>(
            """
            () => {
              const pad = document.getElementById('pad');
              const rgba = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data;
              let text = '';
              for (let i = 0; i < rgba.length; i += 4) text += String.fromCharCode(rgba[i]);
              return btoa(text);
            }
            """);
        return new PageAnswer(
            int.Parse(shown[0], CultureInfo.InvariantCulture),
            shown[1] == "true",
            [.. shown[2].Split(' ').Select(p => float.Parse(p, CultureInfo.InvariantCulture))],
            double.Parse(shown[3], CultureInfo.InvariantCulture),
            double.Parse(shown[4], CultureInfo.InvariantCulture),
            Convert.FromBase64String(grey));
    }

    public ValueTask DisposeAsync() => _context.DisposeAsync();

    private static (float X, float Y) At(LocatorBoundingBoxResult pad, (double X, double Y) point) =>
        ((float)(pad.X + (point.X * pad.Width)), (float)(pad.Y + (point.Y * pad.Height)));
}
