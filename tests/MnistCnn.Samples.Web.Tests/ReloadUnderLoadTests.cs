using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>
/// Hot reload under load: the built app in a process of its own serves <c>--model FILE</c> to 16 concurrent
/// clients for a minute (and at least 100 replacements) while the file is replaced (by rename) every half
/// second, alternating a good model
/// (two different ones in turn) and a bad file (truncated, or random bytes). Every answer must come from a
/// good model, be exactly that model's answer for its image, and name in its header the model /readyz named
/// while the request ran (within one reload); no server error, no transport error, and the managed heap after a full collection flat.
/// The figures go to artifacts/web/reload.txt.
/// </summary>
[Collection(SharedWebApp.Name)]   // never beside the other tests: the machine may have two cores
[Trait("Category", "Load")]
public sealed class ReloadUnderLoadTests : IDisposable
{
    private const int Workers = 16;
    private const int Digits = 200;
    private const long MiB = 1024 * 1024;

    // The objects a full collection keeps may grow this much from the end of the warm-up (which reloads too) to the end
    // of the run (measured: -0.2, -0.6 and -1.7 MiB in three runs): more would be classifiers kept alive after they were
    // swapped out (each good reload loads a model of about 1.7 MB, 60 or more of them a run). Resident memory is only
    // reported: the collector's sawtooth alone spans 35-50 MiB, and the floors of a run's halves moved by -9.4 to
    // +23.7 MiB on identical builds.
    private const long HeapGrowthBound = 16 * MiB;

    // At least this many replacements (half of them good reloads), however long a loaded machine takes to confirm them.
    private const int MinReplacements = 100;

    // Long enough for the runtime to settle (resident memory rose by about 15 MiB in the first 25 s, then stayed flat).
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ReplaceEvery = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan TimeCap = TimeSpan.FromMinutes(4);

    private readonly string _folder = Directory.CreateTempSubdirectory("mnistcnn-web-reload-load-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ReplaceModelEveryHalfSecondUnderLoad_GoodAndBadInTurn_EveryAnswerFromTheModelReadyzNamed()
    {
        using var cap = new CancellationTokenSource(TimeCap);
        byte[][] good = [TestModels.Pretrained(), TestModels.Scaled(0.5f)];
        var random = new Random(7);
        byte[][] bad = [TestModels.Truncated(), .. Enumerable.Range(0, 3).Select(_ => RandomBytes(random))];
        var expected = good.ToDictionary(TestModels.Sha256, ExpectedAnswers);
        var pngs = Enumerable.Range(0, Digits).Select(i => TestImages.Png(TestImages.MnistDigit(i).Pixels)).ToArray();

        var path = Path.Combine(_folder, "model.safetensors");
        File.WriteAllBytes(path, good[0]);
        using var server = await ServerProcess.StartAsync([.. ServerProcess.NoRateLimit, "--model", path, "--Service:ModelPollSeconds", "1"]);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Workers + 1 })
        {
            BaseAddress = server.Address,
            Timeout = TimeSpan.FromSeconds(30),
        };
        var loadBefore = Machine.LoadAverage();
        var clock = Stopwatch.StartNew();
        var answers = new ConcurrentBag<Answer>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cap.Token);
        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(() => WorkAsync(client, pngs, w, clock, answers, stop.Token), CancellationToken.None)).ToArray();

        // Replacement k makes the server serve Served[k] (the last good model) from some time in [RenamedAt[k], ConfirmedAt[k]].
        var replacements = new List<Replacement> { new(-1, "initial", TestModels.Sha256(good[0]), 0, 0) };
        var rssMarks = new List<(double Seconds, long Rss)>();
        var rssSamples = new List<(double Seconds, long Rss)>();
        var served = good[0];
        long? heapAfterWarmUp = null;
        for (var k = 0; clock.Elapsed < WarmUp + Duration || k < MinReplacements; k++)
        {
            if (clock.Elapsed >= WarmUp)
            {
                heapAfterWarmUp ??= await server.HeapAfterFullCollectionAsync(client, cap.Token);
                rssSamples.Add((clock.Elapsed.TotalSeconds, server.ReadStatusBytes("VmRSS")));
            }

            var isGood = k % 2 == 1;
            var file = isGood ? good[(k / 2 + 1) % 2] : bad[(k / 2) % bad.Length];
            served = isGood ? file : served;
            var renamedAt = clock.Elapsed.TotalMilliseconds;
            TestModels.Replace(path, file);
            await ConfirmAsync(client, isGood, TestModels.Sha256(file), TestModels.Sha256(served), cap.Token);
            replacements.Add(new(k, isGood ? "good" : "bad", TestModels.Sha256(served), renamedAt, clock.Elapsed.TotalMilliseconds));
            if (k % 20 == 19)
            {
                rssMarks.Add((clock.Elapsed.TotalSeconds, server.ReadStatusBytes("VmRSS")));
            }

            await Task.Delay(ReplaceEvery, cap.Token);
        }

        await stop.CancelAsync();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        var rssAfter = server.ReadStatusBytes("VmRSS");
        rssSamples.Add((seconds, rssAfter));
        var heapAfter = await server.HeapAfterFullCollectionAsync(client, cap.Token);
        var heapGrowth = heapAfter - heapAfterWarmUp!.Value;
        var log = server.Log.ToList();
        var reloadFailures = log.Count(l => l.Contains("ModelStore[5]", StringComparison.Ordinal));
        var otherErrors = log.Count(l => (l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal)) && !l.Contains("ModelStore[5]", StringComparison.Ordinal));

        var all = answers.ToList();
        var wrong = all.Where(a => a.Status == 200).Select(a => Problem(a, expected, replacements)).OfType<string>().ToList();
        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"reload under load: {replacements.Count - 1} replacements of --model every {ReplaceEvery.TotalMilliseconds} ms ({replacements.Count(r => r.Kind == "good")} good, {replacements.Count(r => r.Kind == "bad")} bad) while {Workers} clients sent {all.Count:N0} requests in {seconds:F1} s ({all.Count / seconds:N0}/s); CPU {Machine.Cpu()}; load average {loadBefore} before, {Machine.LoadAverage()} after")
            .AppendLine(CultureInfo.InvariantCulture, $"status codes: {string.Join(", ", all.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count():N0}"))}; answers not from the model /readyz named (within one reload) or not that model's answer: {wrong.Count}; reload failures logged: {reloadFailures}; other error lines: {otherErrors}")
            .AppendLine(CultureInfo.InvariantCulture, $"time from rename to /readyz showing it: median {Median(replacements.Skip(1).Select(r => r.ConfirmedAt - r.RenamedAt)):F1} ms, max {replacements.Skip(1).Max(r => r.ConfirmedAt - r.RenamedAt):F1} ms")
            .AppendLine(CultureInfo.InvariantCulture, $"server's managed heap after a full collection: {heapAfterWarmUp / (double)MiB:F1} MiB after the {WarmUp.TotalSeconds:F0} s warm-up, {heapAfter / (double)MiB:F1} MiB at the end (growth {heapGrowth / (double)MiB:F1} MiB, bound {HeapGrowthBound / MiB} MiB)")
            .Append(CultureInfo.InvariantCulture, $"server memory (VmRSS): {rssSamples[0].Rss / (double)MiB:F1} MiB after the warm-up, {string.Join(", ", rssMarks.Skip(1).Select(m => $"{m.Rss / (double)MiB:F1} MiB at {m.Seconds:F0} s"))}; {rssAfter / (double)MiB:F1} MiB at the end; smallest {rssSamples.Min(r => r.Rss) / (double)MiB:F1} MiB, largest {rssSamples.Max(r => r.Rss) / (double)MiB:F1} MiB ({rssSamples.Count} samples)");
        if (wrong.Count > 0)
        {
            report.AppendLine().Append("first wrong answers: ").AppendJoin("; ", wrong.Take(5));
        }

        Figures.Write("reload", report.ToString());

        all.Should().NotBeEmpty();
        all.Where(a => a.Status != 200).Select(a => $"{a.Status}: {a.Error}").Take(10).Should().BeEmpty(report.ToString());
        wrong.Should().BeEmpty(report.ToString());
        reloadFailures.Should().Be(replacements.Count(r => r.Kind == "bad"), "each bad file is logged once");
        otherErrors.Should().Be(0);
        server.IsRunning.Should().BeTrue();
        heapGrowth.Should().BeLessThan(HeapGrowthBound, report.ToString());
    }

    private static async Task WorkAsync(HttpClient client, byte[][] pngs, int worker, Stopwatch clock, ConcurrentBag<Answer> answers, CancellationToken stop)
    {
        for (var i = worker; !stop.IsCancellationRequested; i += Workers)
        {
            var digit = i % Digits;
            var started = clock.Elapsed.TotalMilliseconds;
            try
            {
                using var content = new ByteArrayContent(pngs[digit]);
                content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                using var response = await client.PostAsync("api/predict", content, stop);
                var body = await response.Content.ReadAsStringAsync(stop);
                var sha = response.Headers.TryGetValues("X-Model-Sha256", out var values) ? values.Single() : "";
                float[] probabilities = [];
                if ((int)response.StatusCode == 200)
                {
                    using var json = JsonDocument.Parse(body);
                    probabilities = Http.Probabilities(json.RootElement);
                }

                answers.Add(new((int)response.StatusCode, digit, sha, probabilities, started, clock.Elapsed.TotalMilliseconds, (int)response.StatusCode == 200 ? null : body));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                answers.Add(new(0, digit, "", [], started, clock.Elapsed.TotalMilliseconds, $"transport error: {e.GetType().Name}: {e.Message}"));
            }
        }
    }

    /// <summary>Polls /readyz until it shows the replacement: the new model's hash, or the bad file's failure beside the served model.</summary>
    private static async Task ConfirmAsync(HttpClient client, bool isGood, string fileSha, string servedSha, CancellationToken cap)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync("readyz", cap);
            response.IsSuccessStatusCode.Should().BeTrue("/readyz answers 200 while a model serves");
            var ready = ModelReloadTests.Ready.Parse(await response.Content.ReadAsStringAsync(cap));
            var shown = isGood
                ? ready.Sha == fileSha && ready.Failure is null
                : ready.Sha == servedSha && ready.Failure?.GetProperty("sha256").GetString() == fileSha;
            if (shown)
            {
                return;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException($"/readyz did not show the replaced file {fileSha} within 20 s: {ready}");
            }

            await Task.Delay(10, cap);
        }
    }

    /// <summary>What is wrong with a 200 answer; null when nothing is.</summary>
    private static string? Problem(Answer answer, Dictionary<string, DigitPrediction[]> expected, List<Replacement> replacements)
    {
        if (!expected.TryGetValue(answer.Sha, out var answers))
        {
            return $"digit {answer.Digit}: header names {answer.Sha}, not a good model";
        }

        var want = answers[answer.Digit].Probabilities;
        if (answer.Probabilities.Length != 10 || answer.Probabilities.Zip(want).Any(p => Math.Abs(p.First - p.Second) >= 1e-6))
        {
            return $"digit {answer.Digit}: the answer is not model {answer.Sha[..12]}'s";
        }

        // Model k may serve from its rename to the confirmation of the next one; the answer's model must be one
        // whose window overlaps the request.
        for (var k = 0; k < replacements.Count; k++)
        {
            var from = replacements[k].RenamedAt;
            var until = k + 1 < replacements.Count ? replacements[k + 1].ConfirmedAt : double.MaxValue;
            if (replacements[k].Served == answer.Sha && from <= answer.EndedAt && answer.StartedAt <= until)
            {
                return null;
            }
        }

        return $"digit {answer.Digit} at {answer.StartedAt:F0}-{answer.EndedAt:F0} ms: model {answer.Sha[..12]} was not the one /readyz named then";
    }

    private static DigitPrediction[] ExpectedAnswers(byte[] file)
    {
        var copy = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(copy, file);
            var classifier = DigitClassifier.Load(copy);
            return [.. Enumerable.Range(0, Digits).Select(i => classifier.Predict(TestImages.MnistDigit(i).Pixels))];
        }
        finally
        {
            File.Delete(copy);
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(100, 200_000)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private sealed record Answer(int Status, int Digit, string Sha, float[] Probabilities, double StartedAt, double EndedAt, string? Error);

    private sealed record Replacement(int Index, string Kind, string Served, double RenamedAt, double ConfirmedAt);
}
