using System.Net;
using System.Text.Json;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>
/// --model FILE replaced while serving: a good file is swapped in, a bad one leaves the served model answering and
/// shows on /readyz; answers carry the SHA-256 of the model that made them.
/// </summary>
public sealed class ModelReloadTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mnistcnn-web-reload-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ReplaceModelFile_GoodThenBadThenGood_SwapsKeepsServingAndReports()
    {
        var (original, scaled, broken) = (TestModels.Pretrained(), TestModels.Scaled(0.5f), TestModels.Truncated());
        var path = Path.Combine(_folder, "model.safetensors");
        File.WriteAllBytes(path, original);
        await using var server = await WebAppServer.StartAsync("--model", path, "--Service:ModelPollSeconds", "0.2");
        var (pixels, _) = TestImages.MnistDigit(0);

        (await ReadyAsync(server)).Sha.Should().Be(TestModels.Sha256(original));
        await PredictsAsAsync(server, original, pixels);

        TestModels.Replace(path, scaled);
        var ready = await WaitForAsync(server, r => r.Sha == TestModels.Sha256(scaled));
        ready.Status.Should().Be("Healthy");
        ready.Name.Should().Be("model.safetensors");
        ready.Architecture.Should().Be(TestModels.PretrainedArchitecture);
        await PredictsAsAsync(server, scaled, pixels);

        TestModels.Replace(path, broken);
        ready = await WaitForAsync(server, r => r.Failure is not null);
        ready.Status.Should().Be("Degraded");
        ready.Sha.Should().Be(TestModels.Sha256(scaled), "the previous model goes on serving");
        ready.Failure!.Value.GetProperty("sha256").GetString().Should().Be(TestModels.Sha256(broken));
        ready.Failure!.Value.GetProperty("reason").GetString().Should().Contain(path);
        await PredictsAsAsync(server, scaled, pixels);

        TestModels.Replace(path, original);
        ready = await WaitForAsync(server, r => r.Sha == TestModels.Sha256(original));
        ready.Status.Should().Be("Healthy");
        ready.Failure.Should().BeNull();
        await PredictsAsAsync(server, original, pixels);

        var metrics = await server.Client.GetStringAsync("metrics");
        metrics.Should().MatchRegex("""mnistcnn_web_model_reloads_total\{[^}]*outcome="loaded"[^}]*\} 2""");
        metrics.Should().MatchRegex("""mnistcnn_web_model_reloads_total\{[^}]*outcome="failed"[^}]*\} 1""");
    }

    [Fact]
    public void Create_ModelFileThatDoesNotLoad_ThrowsModelFileExceptionNamingIt()
    {
        var path = Path.Combine(_folder, "broken.safetensors");
        File.WriteAllBytes(path, TestModels.Truncated());

        var create = () => DigitWebApp.Create(["--urls", "http://127.0.0.1:0", "--model", path]);

        create.Should().Throw<ModelFileException>().WithMessage($"*{path}*");
    }

    /// <summary>The answer for the pixels must be the one the model in <paramref name="file"/> gives, and name it.</summary>
    private static async Task PredictsAsAsync(WebAppServer server, byte[] file, byte[] pixels)
    {
        var copy = Path.GetTempFileName();
        DigitClassifier expected;
        try
        {
            File.WriteAllBytes(copy, file);
            expected = DigitClassifier.Load(copy);
        }
        finally
        {
            File.Delete(copy);
        }

        using var response = await server.Client.PostAsync("api/predict", Http.Raw(TestImages.Png(pixels), "image/png"));
        var answer = await Http.OkAsync(response);
        response.Headers.GetValues("X-Model-Sha256").Should().Equal(TestModels.Sha256(file));
        Http.Probabilities(answer).Should().Equal(expected.Predict(pixels).Probabilities);
    }

    private static async Task<Ready> WaitForAsync(WebAppServer server, Func<Ready, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var ready = await ReadyAsync(server);
            if (condition(ready))
            {
                return ready;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"/readyz did not change within 20 s: {ready}");
            }

            await Task.Delay(50);
        }
    }

    internal static async Task<Ready> ReadyAsync(WebAppServer server) => Ready.Parse(await server.Client.GetStringAsync("readyz"));

    /// <summary>What /readyz says.</summary>
    internal sealed record Ready(string Status, string Name, string Architecture, string Sha, JsonElement? Failure)
    {
        public static Ready Parse(string body)
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            var model = root.GetProperty("model");
            var failure = root.GetProperty("reloadFailure");
            return new(root.GetProperty("status").GetString()!, model.GetProperty("name").GetString()!, model.GetProperty("architecture").GetString()!,
                model.GetProperty("sha256").GetString()!, failure.ValueKind == JsonValueKind.Null ? null : failure.Clone());
        }
    }
}
