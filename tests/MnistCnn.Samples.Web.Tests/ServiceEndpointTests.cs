using System.Net;
using System.Text.Json;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>What an operator's probes and scrapers read: /healthz, /readyz, /metrics, and the model header.</summary>
[Collection(SharedWebApp.Name)]
public sealed class ServiceEndpointTests(WebAppServer server)
{
    [Fact]
    public async Task Get_Healthz_Is200Healthy()
    {
        using var response = await server.Client.GetAsync("healthz");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("Healthy");
    }

    [Fact]
    public async Task Get_Readyz_NamesThePretrainedModelWithTheSha256OfItsFile()
    {
        using var response = await server.Client.GetAsync("readyz");

        var ready = await Http.OkAsync(response);
        ready.GetProperty("status").GetString().Should().Be("Healthy");
        var model = ready.GetProperty("model");
        model.GetProperty("name").GetString().Should().Be("pretrained");
        model.GetProperty("architecture").GetString().Should().NotBeNullOrWhiteSpace();
        model.GetProperty("sha256").GetString().Should().Be(TestModels.Sha256(TestModels.Pretrained()));
        ready.GetProperty("reloadFailure").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task AnyAnswer_CarriesTheModelSha256Header()
    {
        var sha = TestModels.Sha256(TestModels.Pretrained());
        var (pixels, _) = TestImages.MnistDigit(3);
        using var predicted = await server.Client.PostAsync("api/predict", Http.Raw(TestImages.Png(pixels), "image/png"));
        using var refused = await server.Client.PostAsync("api/predict", Http.Raw([1, 2, 3], "text/plain"));
        using var page = await server.Client.GetAsync("");
        using var missing = await server.Client.GetAsync("no-such-page");

        foreach (var response in new[] { predicted, refused, page, missing })
        {
            response.Headers.GetValues("X-Model-Sha256").Should().Equal([sha], response.RequestMessage!.RequestUri!.ToString());
        }
    }

    [Fact]
    public async Task Get_Metrics_ExportsRequestLatencyPredictionsByDigitAndTheLibrarysMeterAsPrometheusText()
    {
        var (pixels, _) = TestImages.MnistDigit(0);   // a 7
        var digit = DigitFor(pixels);
        using (var predicted = await server.Client.PostAsync("api/predict", Http.Raw(TestImages.Png(pixels), "image/png")))
        {
            predicted.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using (var batch = await server.Client.PostAsync("api/predict/batch", Http.Raw(Rows(0, 8), "application/octet-stream")))
        {
            batch.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var response = await server.Client.GetAsync("metrics");
        var text = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        text.Should().Contain("# TYPE http_server_request_duration_seconds histogram");
        text.Should().MatchRegex("""http_server_request_duration_seconds_bucket\{[^}]*http_route="/api/predict"[^}]*\} [1-9]""");
        text.Should().MatchRegex("""http_server_request_duration_seconds_bucket\{[^}]*http_route="/api/predict/batch"[^}]*\} [1-9]""");
        text.Should().MatchRegex($$"""mnistcnn_web_predictions_total\{[^}]*digit="{{digit}}"[^}]*\} [1-9]""");
        text.Should().MatchRegex("""mnistcnn_inference_predictions_total\{[^}]*mnistcnn_call="predict_batch"[^}]*\} [1-9]""");
        text.Should().Contain("mnistcnn_inference_duration_seconds_bucket");
    }

    private static int DigitFor(byte[] pixels) => MnistCnn.Core.Inference.DigitClassifier.Pretrained().Predict(pixels).Digit;

    /// <summary>MNIST test images first .. first + count - 1 as raw rows.</summary>
    internal static byte[] Rows(int first, int count) =>
        [.. Enumerable.Range(first, count).SelectMany(i => TestImages.MnistDigit(i).Pixels)];
}
