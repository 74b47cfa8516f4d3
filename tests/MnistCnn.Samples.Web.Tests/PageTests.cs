using Microsoft.Playwright;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>
/// The page in a real browser (headless Chromium through Playwright): strokes drawn with real pointer
/// events, the prediction the page then shows, and a screenshot in artifacts/web.
/// </summary>
[Collection(SharedWebApp.Name)]
public sealed class PageTests(WebAppServer server, Chromium chromium) : IClassFixture<Chromium>, IAsyncLifetime
{
    // Strokes of a digit on the drawing pad, in fractions of its side, drawn as a hand would draw them.
    private static readonly Dictionary<int, (double X, double Y)[][]> Strokes = new()
    {
        [7] = [[(0.25, 0.22), (0.72, 0.22), (0.45, 0.82)]],
        [1] = [[(0.50, 0.15), (0.50, 0.85)]],
        [0] = [Ellipse(0.5, 0.5, 0.22, 0.32, 24)],
        [4] = [[(0.35, 0.15), (0.28, 0.55), (0.72, 0.55)], [(0.58, 0.35), (0.58, 0.88)]],
    };

    private IBrowserContext _context = null!;
    private IPage _page = null!;
    private readonly List<string> _browserErrors = [];

    public async Task InitializeAsync()
    {
        _context = await chromium.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 900, Height = 760 } });
        _page = await _context.NewPageAsync();
        _page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _browserErrors.Add(message.Text);
            }
        };
        _page.PageError += (_, error) => _browserErrors.Add(error);
        _page.SetDefaultTimeout(15_000);
        await _page.GotoAsync(server.Address.ToString());
    }

    public Task DisposeAsync() => _context.DisposeAsync().AsTask();

    [Theory]
    [InlineData(7)]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(4)]
    public async Task DrawDigit_WithPointerEvents_ShowsThatDigit(int digit)
    {
        await DrawAsync(Strokes[digit]);
        await WaitForPredictionAsync();

        var shown = await _page.Locator("#digit").TextContentAsync();
        var summary = await _page.Locator("#summary").TextContentAsync();
        await _page.ScreenshotAsync(new() { Path = Path.Combine(Repository.ArtifactsFolder, $"drawn-{digit}.png") });
        Figures.Write($"page-drawn-{digit}", $"drew a {digit}: the page shows {shown} ({summary})");

        shown.Should().Be(digit.ToString(System.Globalization.CultureInfo.InvariantCulture), summary);
        (await _page.Locator("#bars li").CountAsync()).Should().Be(10);
        (await _page.Locator("#bars li.top .label").TextContentAsync()).Should().Be(shown);
        _browserErrors.Should().BeEmpty();
    }

    [Fact]
    public async Task Clear_AfterDrawing_EmptiesPadAndPrediction()
    {
        await DrawAsync(Strokes[7]);
        await WaitForPredictionAsync();

        await _page.GetByRole(AriaRole.Button, new() { Name = "Clear" }).ClickAsync();

        (await _page.Locator("#result").GetAttributeAsync("data-state")).Should().Be("empty");
        (await _page.Locator("#digit").TextContentAsync()).Should().Be("–");
        (await _page.Locator("#bars li.top").CountAsync()).Should().Be(0);
        // The pad is black again: no pixel keeps any ink.
        var inked = await _page.EvaluateAsync<int>(
            "() => { const c = document.getElementById('pad'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 0) n++; return n; }");
        inked.Should().Be(0);
        _browserErrors.Should().BeEmpty();
    }

    [Fact]
    public async Task Footer_CurlExample_NamesTheAddressThePageWasServedFrom()
    {
        // The shared server listens on a free port, never 5000: a hard-coded address would show here.
        var example = await _page.Locator("footer code").Last.TextContentAsync();

        example.Should().Be($"curl -F file=@digit.png {server.Address}api/predict");
        _browserErrors.Should().BeEmpty();
    }

    private async Task DrawAsync((double X, double Y)[][] strokes)
    {
        var pad = await _page.Locator("#pad").BoundingBoxAsync() ?? throw new InvalidOperationException("The drawing pad is not visible.");
        foreach (var stroke in strokes)
        {
            await _page.Mouse.MoveAsync(At(pad, stroke[0]).X, At(pad, stroke[0]).Y);
            await _page.Mouse.DownAsync();
            foreach (var point in stroke.Skip(1))
            {
                var (x, y) = At(pad, point);
                await _page.Mouse.MoveAsync(x, y, new() { Steps = 10 });
            }

            await _page.Mouse.UpAsync();
        }
    }

    /// <summary>Waits until the page shows the prediction for the drawing as it is now.</summary>
    private Task WaitForPredictionAsync() =>
        _page.Locator("#result[data-state=ready]").WaitForAsync(new() { Timeout = 15_000 });

    private static (float X, float Y) At(LocatorBoundingBoxResult pad, (double X, double Y) point) =>
        ((float)(pad.X + (point.X * pad.Width)), (float)(pad.Y + (point.Y * pad.Height)));

    private static (double X, double Y)[] Ellipse(double centreX, double centreY, double radiusX, double radiusY, int segments) =>
        Enumerable.Range(0, segments + 1)
            .Select(i => 2 * Math.PI * i / segments)
            .Select(a => (centreX + (radiusX * Math.Sin(a)), centreY - (radiusY * Math.Cos(a))))
            .ToArray();
}
