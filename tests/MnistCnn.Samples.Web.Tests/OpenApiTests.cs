using System.Net;
using System.Text.Json;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>
/// /openapi/v1.json: a well-formed OpenAPI document whose every documented status of every operation is one a
/// request here produces, with the documented media type.
/// </summary>
[Collection(SharedWebApp.Name)]
public sealed class OpenApiTests(WebAppServer server)
{
    private const string Predict = "/api/predict";
    private const string Batch = "/api/predict/batch";

    [Fact]
    public async Task Get_OpenApiDocument_IsWellFormedAndDescribesBothPredictEndpoints()
    {
        var document = await DocumentAsync();

        document.GetProperty("openapi").GetString().Should().StartWith("3.");
        document.GetProperty("info").GetProperty("title").GetString().Should().NotBeNullOrWhiteSpace();
        document.GetProperty("info").GetProperty("version").GetString().Should().NotBeNullOrWhiteSpace();
        var paths = document.GetProperty("paths");
        paths.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(Predict, Batch);
        RequestTypes(paths, Predict).Should().BeEquivalentTo("image/png", "image/jpeg", "multipart/form-data");
        RequestTypes(paths, Batch).Should().BeEquivalentTo("application/octet-stream", "multipart/form-data");
        foreach (var path in paths.EnumerateObject())
        {
            var operation = path.Value.GetProperty("post");
            operation.GetProperty("operationId").GetString().Should().NotBeNullOrWhiteSpace();
            foreach (var response in operation.GetProperty("responses").EnumerateObject())
            {
                response.Value.GetProperty("description").GetString().Should().NotBeNullOrWhiteSpace($"{path.Name} {response.Name}");
                var content = response.Value.GetProperty("content").EnumerateObject().Select(c => c.Name).ToList();
                content.Should().Equal([response.Name == "200" ? "application/json" : Http.ProblemJson], $"{path.Name} {response.Name}");
            }
        }

        // Every reference resolves within the document.
        var schemas = document.GetProperty("components").GetProperty("schemas");
        foreach (var reference in References(document))
        {
            reference.Should().StartWith("#/components/schemas/");
            schemas.TryGetProperty(reference["#/components/schemas/".Length..], out _).Should().BeTrue(reference);
        }
    }

    [Fact]
    public async Task EveryDocumentedStatus_IsProducedWithItsDocumentedMediaType()
    {
        var document = await DocumentAsync();
        var documented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.GetProperty("post").GetProperty("responses").EnumerateObject().Select(r => (Path: p.Name, Status: int.Parse(r.Name, System.Globalization.CultureInfo.InvariantCulture))))
            .ToList();
        var producers = Producers();

        // Documented and producible are the same set: a status documented with no way to produce it, or
        // produced here but not documented, fails.
        documented.Should().BeEquivalentTo(producers.Keys);
        var results = await Task.WhenAll(documented.Select(async d => (d.Path, Expected: d.Status, Got: await producers[d]())));
        results.Where(r => r.Got.Status != r.Expected || r.Got.MediaType != (r.Expected == 200 ? "application/json" : Http.ProblemJson))
            .Select(r => $"{r.Path} documented {r.Expected}, got {r.Got.Status} {r.Got.MediaType}")
            .Should().BeEmpty();
    }

    private async Task<JsonElement> DocumentAsync()
    {
        using var response = await server.Client.GetAsync("openapi/v1.json");
        return await Http.OkAsync(response);
    }

    private static IEnumerable<string> RequestTypes(JsonElement paths, string path) =>
        paths.GetProperty(path).GetProperty("post").GetProperty("requestBody").GetProperty("content").EnumerateObject().Select(c => c.Name);

    private static IEnumerable<string> References(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => p.Name == "$ref" ? [p.Value.GetString()!] : References(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(References),
        _ => [],
    };

    /// <summary>For each endpoint and status, a request that must get it: its status and media type.</summary>
    private Dictionary<(string Path, int Status), Func<Task<(int Status, string? MediaType)>>> Producers()
    {
        var (pixels, _) = TestImages.MnistDigit(0);
        var png = TestImages.Png(pixels);
        var hugePng = TestImages.PngHeaderOnly(100_000, 100_000);
        var rows = ServiceEndpointTests.Rows(0, 2);
        var producers = new Dictionary<(string, int), Func<Task<(int, string?)>>>
        {
            [(Predict, 200)] = () => PostAsync(Predict, Http.Raw(png, "image/png")),
            [(Predict, 400)] = () => PostAsync(Predict, Http.Raw([1, 2, 3, 4], "image/png")),
            [(Predict, 413)] = () => PostAsync(Predict, Http.Raw(new byte[(4 * 1024 * 1024) + 1], "image/png")),
            [(Predict, 415)] = () => PostAsync(Predict, Http.Raw(png, "text/plain")),
            [(Predict, 422)] = () => PostAsync(Predict, Http.Raw(hugePng, "image/png")),
            [(Batch, 200)] = () => PostAsync(Batch, Http.Raw(rows, "application/octet-stream")),
            [(Batch, 400)] = () => PostAsync(Batch, Http.Raw(rows[..100], "application/octet-stream")),
            [(Batch, 413)] = () => PostAsync(Batch, Http.Raw(new byte[1025 * 784], "application/octet-stream")),
            [(Batch, 415)] = () => PostAsync(Batch, Http.Raw(rows, "text/plain")),
            [(Batch, 422)] = () => PostAsync(Batch, Http.Files((png, "image/png", "a.png"), (hugePng, "image/png", "b.png"))),
        };
        foreach (var path in new[] { Predict, Batch })
        {
            var type = path == Predict ? "image/png" : "application/octet-stream";
            producers[(path, 408)] = async () => (await Http.SlowUploadAsync(server.Address, path, type, CancellationToken.None), Http.ProblemJson);
            producers[(path, 414)] = () => PostAsync(path + "?q=" + new string('a', 9_000), Http.Raw(png, "image/png"));
            producers[(path, 431)] = () => PostAsync(path, Http.Raw(png, "image/png"), ("X-Large", new string('a', 33_000)));
            producers[(path, 429)] = () => RateLimitedAsync(path, type == "image/png" ? png : rows, type);
        }

        return producers;
    }

    private async Task<(int Status, string? MediaType)> PostAsync(string path, HttpContent content, (string Name, string Value)? header = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/')) { Content = content };
        if (header is { } extra)
        {
            request.Headers.TryAddWithoutValidation(extra.Name, extra.Value).Should().BeTrue();
        }

        using var response = await server.Client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType);
    }

    // The shared server allows bursts of 2000: the 429 comes from a server of its own that allows one request.
    private static async Task<(int Status, string? MediaType)> RateLimitedAsync(string path, byte[] body, string type)
    {
        await using var limited = await WebAppServer.StartAsync("--Service:RatePerSecond", "1", "--Service:RateBurst", "1");
        using (var first = await limited.Client.PostAsync(path.TrimStart('/'), Http.Raw(body, type)))
        {
            first.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var second = await limited.Client.PostAsync(path.TrimStart('/'), Http.Raw(body, type));
        return ((int)second.StatusCode, second.Content.Headers.ContentType?.MediaType);
    }
}
