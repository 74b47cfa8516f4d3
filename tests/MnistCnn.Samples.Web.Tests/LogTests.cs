using System.Globalization;
using System.Text.RegularExpressions;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>
/// The log of a busy server stays small: no line per request at Information, a summary per interval (requests,
/// refusals by status, p50/p99), and at Debug exactly one line per request.
/// </summary>
[Collection(SharedWebApp.Name)]
public sealed partial class LogTests
{
    private const int Good = 40;
    private const int Bad = 3;
    private const int Unsupported = 2;

    [Fact]
    public async Task Information_ManyRequests_NoLinePerRequestAndSummariesThatCountThemAll()
    {
        using var server = await ServerProcess.StartAsync("--Logging:LogLevel:Default", "Information", "--Service:SummarySeconds", "1");
        var linesBefore = server.Log.Count;

        await SendAsync(server.Address);
        var summaries = await WaitForSummariesAsync(server, Good + Bad + Unsupported);

        summaries.Sum(s => s.Requests).Should().Be(Good + Bad + Unsupported);
        summaries.Sum(s => s.Refused(400)).Should().Be(Bad);
        summaries.Sum(s => s.Refused(415)).Should().Be(Unsupported);
        summaries.Should().AllSatisfy(s => s.P50.Should().BePositive().And.BeLessThanOrEqualTo(s.P99));
        var lines = server.Log.Skip(linesBefore).ToList();
        lines.Should().NotContain(l => l.Contains("RequestObserver[8]", StringComparison.Ordinal) || l.Contains("PredictEndpoint[", StringComparison.Ordinal));
        // Two lines per summary (the console logger's category line and the message), nothing per request.
        lines.Count.Should().BeLessThan(Good + Bad + Unsupported, string.Join(Environment.NewLine, lines));
    }

    [Fact]
    public async Task Debug_ManyRequests_ExactlyOneLinePerRequest()
    {
        using var server = await ServerProcess.StartAsync("--Logging:LogLevel:MnistCnn.Samples.Web", "Debug");

        await SendAsync(server.Address);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (RequestLines(server) < Good + Bad + Unsupported && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        RequestLines(server).Should().Be(Good + Bad + Unsupported);
        server.Log.Should().NotContain(l => l.Contains("PredictEndpoint[", StringComparison.Ordinal), "predictions and refusals are Trace");
    }

    private static int RequestLines(ServerProcess server) => server.Log.Count(l => l.Contains("RequestObserver[8]", StringComparison.Ordinal));

    private static async Task SendAsync(Uri address)
    {
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        var png = TestImages.Png(TestImages.MnistDigit(0).Pixels);
        for (var i = 0; i < Good; i++)
        {
            using var response = await client.PostAsync("api/predict", Http.Raw(png, "image/png"));
            ((int)response.StatusCode).Should().Be(200);
        }

        for (var i = 0; i < Bad; i++)
        {
            using var response = await client.PostAsync("api/predict", Http.Raw([1, 2, 3], "image/png"));
            ((int)response.StatusCode).Should().Be(400);
        }

        for (var i = 0; i < Unsupported; i++)
        {
            using var response = await client.PostAsync("api/predict", Http.Raw(png, "text/plain"));
            ((int)response.StatusCode).Should().Be(415);
        }
    }

    private static async Task<List<Summary>> WaitForSummariesAsync(ServerProcess server, int requests)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var summaries = server.Log.Select(l => SummaryLine().Match(l)).Where(m => m.Success).Select(Summary.From).ToList();
            if (summaries.Sum(s => s.Requests) >= requests || DateTime.UtcNow > deadline)
            {
                return summaries;
            }

            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"(\d+) requests in \d+ s \(\d+/s\); refusals by status: (.*); latency p50 (\d+\.\d\d) ms, p99 (\d+\.\d\d) ms")]
    private static partial Regex SummaryLine();

    private sealed record Summary(int Requests, Dictionary<int, int> Refusals, double P50, double P99)
    {
        public static Summary From(Match match) => new(
            int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
            match.Groups[2].Value == "none"
                ? []
                : match.Groups[2].Value.Split(", ").Select(p => p.Split(": ")).ToDictionary(
                    p => int.Parse(p[0], CultureInfo.InvariantCulture), p => int.Parse(p[1], CultureInfo.InvariantCulture)),
            double.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture),
            double.Parse(match.Groups[4].Value, CultureInfo.InvariantCulture));

        public int Refused(int status) => Refusals.GetValueOrDefault(status);
    }
}
