using System.Diagnostics;
using System.Globalization;
using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Wasm.Tests;

/// <summary>
/// The browser sample in headless Chromium: digits drawn with real pointer events get the answers the packed
/// library gives for the same pixels, predicting makes no network request, and the page keeps working with its
/// server stopped. The figures (bytes of a first visit, time to the first possible prediction, time per
/// prediction) go to artifacts/wasm/results/figures.txt.
/// </summary>
public sealed class PadTests(WasmApp app) : IClassFixture<WasmApp>
{
    private const int TimedDrawings = 50;

    // The case study's page is timed on fewer drawings: its network is the cheap one.
    private const int CaseStudyDrawings = 20;

    private static DigitClassifier Classifier => DigitClassifier.Pretrained();

    private static DigitClassifier CaseStudyClassifier => DigitClassifier.Pretrained(PretrainedModel.CaseStudy);

    [Fact]
    public async Task Digits_DrawnWithPointerEvents_ShowThoseDigitsAndTheLibrarysAnswers()
    {
        await using var page = await PadPage.OpenAsync(app.Chromium.Browser, app.Address);
        foreach (var (digit, strokes) in Strokes.Digits)
        {
            await page.DrawAsync(strokes);
            var answer = await page.AnswerAsync();
            if (digit == 7)
            {
                await page.Page.ScreenshotAsync(new() { Path = Path.Combine(Repository.ResultsFolder, "drawn-7.png") });
            }

            answer.Digit.Should().Be(digit);
            ShouldMatchLibrary(answer, $"a drawn {digit}");
            await page.ClearAsync();
        }

        // The page names the model that answers: the package's default, whichever network that is.
        (await page.Page.Locator("#model").TextContentAsync()).Should().Contain(Classifier.Metadata["architecture"]);
        page.RequestsSinceReady.Should().BeEmpty("the page predicts in the tab");
        page.Errors.Should().BeEmpty();
    }

    [Fact]
    public async Task BadDrawings_NothingADotTheBorderAScribble_GetTheLibrarysAnswersAndFlags()
    {
        await using var page = await PadPage.OpenAsync(app.Chromium.Browser, app.Address);

        // Nothing drawn: no prediction is made, and the page says so.
        (await page.Page.Locator("#result").GetAttributeAsync("data-state")).Should().Be("empty");
        (await page.Page.Locator("#digit").TextContentAsync()).Should().Be("–");
        (await page.Page.Locator("#bars li.top").CountAsync()).Should().Be(0);

        var lines = new List<string>();
        foreach (var (name, strokes) in new[] { ("a single dot", Strokes.Dot), ("a stroke along the border", Strokes.Border), ("a huge scribble", Strokes.Scribble) })
        {
            await page.DrawAsync(strokes);
            var answer = await page.AnswerAsync();
            ShouldMatchLibrary(answer, name);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {answer.Digit} ({answer.Probabilities[answer.Digit] * 100:0.0}%), {(answer.IsLikelyDigit ? "likely a digit" : "not likely a digit")}, as the library says"));
            await page.ClearAsync();
        }

        Figures.Write("bad-drawings", lines);
        (await page.Page.Locator("#result").GetAttributeAsync("data-state")).Should().Be("empty");
        page.RequestsSinceReady.Should().BeEmpty();
        page.Errors.Should().BeEmpty();
    }

    [Fact]
    public async Task Page_WithItsServerStopped_StillPredicts()
    {
        using var host = await StaticHostProcess.StartAsync();
        await using var page = await PadPage.OpenAsync(app.Chromium.Browser, host.Address);
        host.Stop();

        await page.DrawAsync(Strokes.Digits[7]);
        var answer = await page.AnswerAsync();

        answer.Digit.Should().Be(7);
        ShouldMatchLibrary(answer, "a 7 drawn with the server stopped");
        page.RequestsSinceReady.Should().BeEmpty();
        page.Errors.Should().BeEmpty();
    }

    [Fact]
    public async Task FiftyDrawings_FirstVisit_MeasuredAndAnsweredInTheTab()
    {
        var loadBefore = LoadAverage();
        await using var page = await PadPage.OpenAsync(app.Chromium.Browser, app.Address);
        var (bytes, requests, encodings) = await page.FirstVisitTransferAsync();

        var preparation = new List<double>();
        var network = new List<double>();
        var jitNetwork = new List<double>();
        var digits = Strokes.Digits.ToArray();
        for (var i = 0; i < TimedDrawings; i++)
        {
            // The four digits, each shrunk or grown and moved a little differently every time.
            var (_, strokes) = digits[i % digits.Length];
            await page.DrawAsync(Strokes.Moved(strokes, 0.8 + (0.05 * (i % 6)), 0.02 * ((i % 5) - 2), 0.02 * ((i % 3) - 1)));
            var answer = await page.AnswerAsync();
            ShouldMatchLibrary(answer, $"drawing {i}");
            preparation.Add(answer.PreparationMs);
            network.Add(answer.NetworkMs);
            jitNetwork.Add(JitNetworkMs(answer.Grey));
            await page.ClearAsync();
        }

        page.RequestsSinceReady.Should().BeEmpty("no prediction may reach the network");
        page.Errors.Should().BeEmpty();

        // The case study's network in the page (?model=case-study), on the same kind of drawings.
        var caseStudyNetwork = new List<double>();
        var caseStudyJit = new List<double>();
        await using (var caseStudyPage = await PadPage.OpenAsync(app.Chromium.Browser, new Uri(app.Address, "?model=case-study")))
        {
            (await caseStudyPage.Page.Locator("#model").TextContentAsync()).Should().Contain(CaseStudyClassifier.Metadata["architecture"]);
            for (var i = 0; i < CaseStudyDrawings; i++)
            {
                var (_, strokes) = digits[i % digits.Length];
                await caseStudyPage.DrawAsync(Strokes.Moved(strokes, 0.8 + (0.05 * (i % 6)), 0.02 * ((i % 5) - 2), 0.02 * ((i % 3) - 1)));
                var answer = await caseStudyPage.AnswerAsync();
                ShouldMatchLibrary(answer, $"case study drawing {i}", CaseStudyClassifier);
                caseStudyNetwork.Add(answer.NetworkMs);
                caseStudyJit.Add(JitNetworkMs(answer.Grey, CaseStudyClassifier));
                await caseStudyPage.ClearAsync();
            }

            caseStudyPage.RequestsSinceReady.Should().BeEmpty("no prediction may reach the network");
            caseStudyPage.Errors.Should().BeEmpty();
        }

        var loadAfter = LoadAverage();
        var networkMedian = Median(network);
        var jitMedian = Median(jitNetwork);
        var caseStudyMedian = Median(caseStudyNetwork);
        var caseStudyJitMedian = Median(caseStudyJit);
        Figures.Write("figures", [
            $"CPU: {CpuLine()}; load average {loadBefore} before, {loadAfter} after (1, 5, 15 min)",
            $"model: {await page.Page.Locator("#model").TextContentAsync()}",
            $"first visit: {bytes:N0} bytes transferred in {requests} responses ({string.Join(", ", encodings.OrderBy(e => e.Key).Select(e => $"{e.Key}: {e.Value}"))}); goal <= 8 MB",
            $"navigation to the first possible prediction: {page.ReadyMs:0} ms; goal <= 3000 ms",
            $"where it went: {page.ReadyBreakdown}",
            $"per prediction in the page, median of {TimedDrawings} drawings: network {networkMedian:0.00} ms, preparation {Median(preparation):0.00} ms (browser timer resolution 0.1 ms)",
            $"same network, same drawings, .NET JIT in the test process: {jitMedian * 1000:0.0} us; the page takes {networkMedian / jitMedian:0}x as long",
            $"case study (?model=case-study), median of {CaseStudyDrawings} drawings: network {caseStudyMedian:0.00} ms in the page; goal <= 1 ms",
            $"case study, same drawings, .NET JIT in the test process: {caseStudyJitMedian * 1000:0.0} us; the page takes {caseStudyMedian / caseStudyJitMedian:0}x as long",
        ]);
    }

    // The browser's answer must be the library's for the same pixels: the same digit and flag, and the same
    // probabilities up to the rounding that a different vector width (the browser's 128 bits against this
    // machine's widest) leaves in the sums.
    private static void ShouldMatchLibrary(PageAnswer answer, string what, DigitClassifier? classifier = null)
    {
        var expected = (classifier ?? Classifier).PredictImage(answer.Grey, PadPage.PadSide, PadPage.PadSide);
        answer.Digit.Should().Be(expected.Digit, what);
        answer.IsLikelyDigit.Should().Be(expected.IsLikelyDigit, what);
        answer.Probabilities.Should().HaveCount(10);
        for (var d = 0; d < 10; d++)
        {
            answer.Probabilities[d].Should().BeApproximately(expected.Probabilities[d], 1e-5f, $"{what}: the probability of {d}");
        }
    }

    // The network alone on the same prepared digit, here with the JIT: the mean of 200 calls after a warm-up.
    private static double JitNetworkMs(byte[] grey, DigitClassifier? classifier = null)
    {
        classifier ??= Classifier;
        var digit = DigitImage.ToMnist(grey, PadPage.PadSide, PadPage.PadSide);
        for (var i = 0; i < 20; i++)
        {
            classifier.Predict(digit);
        }

        const int calls = 200;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < calls; i++)
        {
            classifier.Predict(digit);
        }

        return Stopwatch.GetElapsedTime(start).TotalMilliseconds / calls;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string CpuLine()
    {
        if (!File.Exists("/proc/cpuinfo"))
        {
            return $"{Environment.ProcessorCount} cores";
        }

        var lines = File.ReadAllLines("/proc/cpuinfo");
        var model = lines.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var flags = lines.FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(':', 2)[1].Split(' ') ?? [];
        var isa = flags.Contains("avx512f") ? "AVX-512" : flags.Contains("avx2") ? "AVX2" : "no AVX2";
        return $"{model}, {isa}, {Environment.ProcessorCount} cores";
    }
}
