using System.Net;
using System.Text.Json;
using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>POST /api/predict/batch: answers in request order, the limits on count and bytes, one bad image refusing the batch.</summary>
[Collection(SharedWebApp.Name)]
public sealed class BatchApiTests(WebAppServer server)
{
    private const string Batch = "api/predict/batch";
    private const string Rows = "application/octet-stream";

    private static readonly Lazy<DigitClassifier> Classifier = new(DigitClassifier.Pretrained);

    [Theory]
    [InlineData(1, false)]
    [InlineData(300, false)]
    [InlineData(1024, false)]
    [InlineData(300, true)]
    public async Task Post_MnistRows_AnswersEachImageInOrderAsPredictBatchDoes(int count, bool chunked)
    {
        var rows = ServiceEndpointTests.Rows(100, count);
        using HttpContent content = chunked ? Http.Chunked(rows, Rows) : Http.Raw(rows, Rows);

        using var response = await server.Client.PostAsync(Batch, content);

        var answer = await Http.OkAsync(response);
        var expected = Classifier.Value.PredictBatch(rows, count);
        answer.GetProperty("count").GetInt32().Should().Be(count);
        var predictions = answer.GetProperty("predictions").EnumerateArray().ToList();
        predictions.Should().HaveCount(count);
        for (var i = 0; i < count; i++)
        {
            predictions[i].GetProperty("digit").GetInt32().Should().Be(expected[i].Digit, $"image {i}");
            Http.Probabilities(predictions[i]).Should().Equal(expected[i].Probabilities, $"image {i}");
        }
    }

    [Fact]
    public async Task Post_SeveralPngFiles_AnswersEachInTheOrderSent()
    {
        var indexes = new[] { 7, 0, 3, 11, 5 };
        var files = indexes.Select(i => (TestImages.Png(TestImages.MnistDigit(i).Pixels), "image/png", $"{i}.png")).ToArray();

        using var response = await server.Client.PostAsync(Batch, Http.Files(files));

        var predictions = (await Http.OkAsync(response)).GetProperty("predictions").EnumerateArray().ToList();
        predictions.Select(p => p.GetProperty("digit").GetInt32())
            .Should().Equal(indexes.Select(i => Classifier.Value.Predict(TestImages.MnistDigit(i).Pixels).Digit));
        predictions.Select(p => Http.Probabilities(p))
            .Should().BeEquivalentTo(indexes.Select(i => Classifier.Value.Predict(TestImages.MnistDigit(i).Pixels).Probabilities), o => o.WithStrictOrdering());
    }

    [Fact]
    public async Task Post_FilesWithOneBadImage_RefusesTheWholeBatchNamingItsIndex()
    {
        var png = TestImages.Png(TestImages.MnistDigit(0).Pixels);
        var form = Http.Files((png, "image/png", "a.png"), (png, "image/png", "b.png"), ("not an image"u8.ToArray(), "image/png", "notes.png"), (png, "image/png", "d.png"));

        using var response = await server.Client.PostAsync(Batch, form);

        var problem = await Http.ProblemAsync(response, HttpStatusCode.BadRequest);
        problem.GetProperty("index").GetInt32().Should().Be(2);
        problem.GetProperty("detail").GetString().Should().StartWith("Image 2 ('notes.png'):");
    }

    [Fact]
    public async Task Post_MoreRowsThanTheCountLimit_Is413()
    {
        using var response = await server.Client.PostAsync(Batch, Http.Raw(new byte[1025 * 784], Rows));

        var problem = await Http.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        problem.GetProperty("detail").GetString().Should().Contain("1,024 images");
    }

    [Fact]
    public async Task Post_MoreRowsThanTheCountLimitChunked_Is413()
    {
        using var response = await server.Client.PostAsync(Batch, Http.Chunked(new byte[2000 * 784], Rows));

        await Http.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(783)]
    [InlineData(785)]
    public async Task Post_BodyNotWholeRows_Is400(int bytes)
    {
        using var response = await server.Client.PostAsync(Batch, Http.Raw(new byte[bytes], Rows));

        var problem = await Http.ProblemAsync(response, HttpStatusCode.BadRequest);
        problem.GetProperty("detail").GetString().Should().Contain("784-byte images");
    }

    [Fact]
    public async Task Post_RowsAsImagePng_Is415()
    {
        using var response = await server.Client.PostAsync(Batch, Http.Raw(new byte[784], "image/png"));

        await Http.ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Post_FormWithoutFiles_Is400()
    {
        using var form = new MultipartFormDataContent { { new StringContent("7"), "digit" } };

        using var response = await server.Client.PostAsync(Batch, form);

        await Http.ProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Post_MoreFilesOrBytesThanTheLimits_Is413()
    {
        await using var small = await WebAppServer.StartAsync("--Limits:MaxBatchImages", "3", "--Limits:MaxBatchBytes", "20000");
        var png = TestImages.Png(TestImages.MnistDigit(0).Pixels);

        using var tooMany = await small.Client.PostAsync(Batch, Http.Files([.. Enumerable.Repeat((png, "image/png", "d.png"), 4)]));
        using var tooLarge = await small.Client.PostAsync(Batch, Http.Files((png, "image/png", "a.png"), (TestImages.NoisePng(150, 1), "image/png", "noise.png")));
        using var withinLimits = await small.Client.PostAsync(Batch, Http.Files([.. Enumerable.Repeat((png, "image/png", "d.png"), 3)]));

        (await Http.ProblemAsync(tooMany, HttpStatusCode.RequestEntityTooLarge)).GetProperty("detail").GetString().Should().Contain("more than 3 files");
        (await Http.ProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge)).GetProperty("detail").GetString().Should().Contain("20,000 bytes");
        (await Http.OkAsync(withinLimits)).GetProperty("count").GetInt32().Should().Be(3);
    }
}
