using System.Net;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>
/// Refusals outside the endpoints: the request line and headers (414, 431) as problem details up to Kestrel's own
/// limits, and the per-client rate limiter (429 with Retry-After).
/// </summary>
[Collection(SharedWebApp.Name)]
public sealed class ServiceLimitTests(WebAppServer server)
{
    [Fact]
    public async Task Get_TargetOverTheLimit_Is414Problem()
    {
        using var response = await server.Client.GetAsync("healthz?q=" + new string('a', 9_000));

        var problem = await Http.ProblemAsync(response, HttpStatusCode.RequestUriTooLong);
        problem.GetProperty("detail").GetString().Should().Contain("limit is 8,192");
    }

    [Fact]
    public async Task Get_HeadersOverTheLimit_Is431Problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "healthz");
        request.Headers.TryAddWithoutValidation("X-Large", new string('a', 33_000));

        using var response = await server.Client.SendAsync(request);

        await Http.ProblemAsync(response, HttpStatusCode.RequestHeaderFieldsTooLarge);
    }

    [Fact]
    public async Task Get_MoreHeaderFieldsThanTheLimit_Is431Problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "healthz");
        for (var i = 0; i < 120; i++)
        {
            request.Headers.TryAddWithoutValidation($"X-Field-{i}", "1");
        }

        using var response = await server.Client.SendAsync(request);

        (await Http.ProblemAsync(response, HttpStatusCode.RequestHeaderFieldsTooLarge)).GetProperty("detail").GetString().Should().Contain("limit is 100");
    }

    [Fact]
    public async Task Get_FarBeyondKestrelsOwnLimits_AreRefusedByKestrelWithAnEmptyBody()
    {
        // Documented exception: Kestrel answers these before any middleware runs (4 x the app's limits).
        var longTarget = await Http.SendRawAsync(server.Address, $"GET /healthz?q={new string('a', 40_000)} HTTP/1.1\r\nHost: x\r\n\r\n", CancellationToken.None);
        var largeHeaders = await Http.SendRawAsync(server.Address, $"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Large: {new string('a', 140_000)}\r\n\r\n", CancellationToken.None);

        longTarget.Status.Should().Be(414);
        longTarget.Body.Should().BeEmpty();
        largeHeaders.Status.Should().Be(431);
        largeHeaders.Body.Should().BeEmpty();
        using var after = await server.Client.GetAsync("healthz");
        after.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Post_BurstOverTheRateLimit_Is429ProblemWithRetryAfter_AndProbesAreNotLimited()
    {
        await using var limited = await WebAppServer.StartAsync("--Service:RatePerSecond", "2", "--Service:RateBurst", "5");
        var png = TestImages.Png(TestImages.MnistDigit(0).Pixels);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 12; i++)
        {
            var response = await limited.Client.PostAsync("api/predict", Http.Raw(png, "image/png"));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && refused is null)
            {
                refused = response;
            }
            else
            {
                response.Dispose();
            }
        }

        using var probe = await limited.Client.GetAsync("readyz");

        // The burst passes; after it, at most the 2 a second refilled while the loop ran.
        statuses.Take(5).Should().AllSatisfy(s => s.Should().Be(HttpStatusCode.OK));
        statuses.Count(s => s == HttpStatusCode.TooManyRequests).Should().BeGreaterThanOrEqualTo(3, string.Join(", ", statuses));
        refused.Should().NotBeNull(string.Join(", ", statuses));
        using (refused)
        {
            var problem = await Http.ProblemAsync(refused!, HttpStatusCode.TooManyRequests);
            problem.GetProperty("detail").GetString().Should().Contain("2 requests a second");
            var retryAfter = refused!.Headers.RetryAfter!.Delta!.Value;
            retryAfter.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1));
            probe.StatusCode.Should().Be(HttpStatusCode.OK);

            await Task.Delay(retryAfter + TimeSpan.FromMilliseconds(200));
            using var again = await limited.Client.PostAsync("api/predict", Http.Raw(png, "image/png"));
            again.StatusCode.Should().Be(HttpStatusCode.OK);
        }
    }
}
