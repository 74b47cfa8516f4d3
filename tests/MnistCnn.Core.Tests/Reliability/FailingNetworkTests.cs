using MnistCnn.Core.Data.Download;
using System.Security.Cryptography;
using MnistCnn.Core.Data;
using MnistCnn.Core.Tests.Data.Download;
using Xunit.Abstractions;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// Mirrors on 127.0.0.1 that drop or reset connections mid-file, answer 404/500/503, send wrong, garbage or
/// endless bytes, or stall; and two processes downloading into one folder at once. The downloader must fall
/// back, fail with <see cref="MnistDownloadException"/> naming every mirror when all fail, and never leave
/// a file under a final name that does not verify.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class FailingNetworkTests(ITestOutputHelper output) : IDisposable
{
    private const int Rounds = 24;
    private static readonly TimeSpan StallTimeout = TimeSpan.FromMilliseconds(250);

    // Only a hang reaches this: every fault ends by the stall timeout or at the end of a transfer.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private readonly SyntheticMnist _data = new();
    private readonly TempDirectory _work = TempDirectory.OnDisk();

    private enum Fault
    {
        DropMidFile,
        ResetMidFile,
        NotFound,
        ServerError,
        Unavailable,
        CorruptGzip,
        WrongContent,
        Garbage,
        Endless,
        StallBeforeHeaders,
        StallMidBody,
    }

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task DownloadAsync_RandomFaultsOnEveryMirror_FallsBackOrFailsClearlyWithoutDamagedFiles()
    {
        var random = new Random(7);
        var faults = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var problems = new List<string>();
        var goodFolder = _work.File("good", "x");
        _data.WriteGzipFiles(Path.GetDirectoryName(goodFolder)!);
        await using var first = new LocalHttpServer();
        await using var second = new LocalHttpServer();
        await using var third = new LocalHttpServer();
        LocalHttpServer[] servers = [first, second, third];

        for (var round = 0; round < Rounds; round++)
        {
            // A third of the rounds end with a good local mirror (must succeed), a third have no good copy
            // anywhere (must fail), and the rest draw good replies among the faults (either may happen).
            var kind = (RoundKind)(round % 3);
            foreach (var server in servers)
            {
                foreach (var name in SyntheticMnist.Names)
                {
                    var seed = random.Next();
                    server.Serve(name + ".gz", request => Choose(new Random(seed + request), name, kind, faults));
                }
            }

            List<string> mirrors = [.. servers.Select(s => s.BaseUrl)];
            if (kind == RoundKind.Recoverable)
            {
                mirrors.Add(Path.GetDirectoryName(goodFolder)!);
            }

            var target = _work.File($"round-{round}", "x");
            target = Path.GetDirectoryName(target)!;
            var outcome = await DownloadAsync(target, mirrors);
            outcomes[$"{kind}: {outcome.Name}"] = outcomes.GetValueOrDefault($"{kind}: {outcome.Name}") + 1;
            var problem = outcome.Problem ?? CheckFolder(target);
            if (problem is null && kind == RoundKind.Recoverable && outcome.Name != "downloaded")
            {
                problem = $"a good mirror was last in the list, but the download ended with {outcome.Name}";
            }

            if (problem is null && kind == RoundKind.Hopeless && outcome.Name != "MnistDownloadException")
            {
                problem = $"no mirror had a good copy, but the download ended with {outcome.Name}";
            }

            if (problem is not null)
            {
                problems.Add($"round {round} ({kind}): {problem}");
            }
        }

        ReliabilityReport.Record(
            "Failing networks (MnistDownloader, three local HTTP mirrors with random faults)",
            [
                $"rounds: {Rounds}; faults injected: {faults.Values.Sum()} ({string.Join(", ", faults.Select(f => $"{f.Key} {f.Value}"))})",
                $"outcomes: {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}",
                $"damaged or temporary files left under any name, wrong outcomes, unclear errors: {problems.Count}",
            ],
            output);

        problems.Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_MirrorSendsEndlessData_StopsAtTheFilesLimitAndFallsBack()
    {
        await using var endless = new LocalHttpServer();
        await using var good = new LocalHttpServer();
        foreach (var name in SyntheticMnist.Names)
        {
            endless.Serve(name + ".gz", new Reply.Endless(Seed: 1));
        }

        _data.ServeAll(good);
        var target = Path.GetDirectoryName(_work.File("endless", "x"))!;

        var outcome = await DownloadAsync(target, [endless.BaseUrl, good.BaseUrl]);

        outcome.Should().Be(("downloaded", (string?)null));
        CheckFolder(target).Should().BeNull();
        endless.TotalRequests.Should().Be(SyntheticMnist.Names.Count, "more data than a file can have is not worth a retry");
    }

    [Fact]
    public async Task DownloadAsync_ConcurrentProcessesIntoOneFolder_AllEndWithOnlyVerifiedFiles()
    {
        await using var flaky = new LocalHttpServer();
        await using var staller = new LocalHttpServer();
        await using var good = new LocalHttpServer();
        foreach (var name in SyntheticMnist.Names)
        {
            var gzip = _data.Gzip[name];
            flaky.Serve(name + ".gz", request => (request % 3) switch
            {
                0 => new Reply.Truncated(gzip, gzip.Length / 2),
                1 => new Reply.Reset(gzip, gzip.Length / 3),
                _ => new Reply.Ok(_data.CorruptGzip(name)),
            });
            staller.Serve(name + ".gz", new Reply.Stall(gzip, gzip.Length / 2));
        }

        _data.ServeAll(good);
        var table = _work.File("table.txt");
        File.WriteAllLines(table, _data.Table.Select(f => $"{f.Name} {f.GzipMd5} {f.Sha256} {f.Length}"));
        var (processes, killed, leftovers) = (0, 0, 0);

        // Round 1: two processes into an empty folder. Round 2: the same over a damaged file under a final
        // name. Round 3: one process killed (SIGKILL) in the middle of a transfer while another completes.
        for (var round = 1; round <= 3; round++)
        {
            var folder = Path.GetDirectoryName(_work.File($"processes-{round}", "x"))!;
            if (round == 2)
            {
                File.WriteAllBytes(Path.Combine(folder, SyntheticMnist.Names[0]), [1, 2, 3]);
            }

            string[] mirrors = [flaky.BaseUrl, good.BaseUrl];
            using var first = HostProcess.Start(["download", folder, table, "30000", .. (round == 3 ? [staller.BaseUrl] : mirrors)]);
            if (round == 3)
            {
                // Alone until its transfer has started, so the temporary file seen is surely its own.
                await WaitForPartialFileAsync(folder, first);
            }

            using var second = HostProcess.Start(["download", folder, table, "30000", .. mirrors]);
            processes += 2;
            if (round == 3)
            {
                first.Kill();
                killed++;
            }

            var firstLine = await first.ReadUntilAsync(_ => true);
            var secondLine = await second.ReadUntilAsync(_ => true);
            await first.WaitForExitAsync();
            await second.WaitForExitAsync();
            if (round < 3)
            {
                // Either process may store a file first; the other then finds it verified and keeps it.
                firstLine.Should().StartWith("ok ", first.Stderr);
                first.ExitCode.Should().Be(0);
            }

            secondLine.Should().StartWith("ok ", second.Stderr);
            second.ExitCode.Should().Be(0);

            // A killed process leaves its temporary files (a .gz being received, or AtomicFile's ".<name>.<guid>.tmp"
            // being decompressed into), but never a final name.
            var temporaries = Directory.GetFiles(folder, "*.partial").Concat(Directory.GetFiles(folder, ".*.tmp")).ToList();
            leftovers += temporaries.Count;
            foreach (var temporary in temporaries)
            {
                File.Delete(temporary);
            }

            CheckFolder(folder).Should().BeNull();
            Directory.GetFiles(folder).Should().HaveCount(SyntheticMnist.Names.Count);
        }

        ReliabilityReport.Record(
            "Concurrent downloads (child processes into one folder)",
            [
                $"processes: {processes}, two at a time through a flaky mirror (drop, reset, corrupt) then a good one; killed mid-transfer: {killed}",
                $"temporary files a killed process left behind (never a final name): {leftovers}; final files that failed verification: 0",
            ],
            output);
        killed.Should().Be(1);
        leftovers.Should().BeGreaterThan(0, "the kill must land inside a transfer for the round to prove anything");
    }

    private static async Task WaitForPartialFileAsync(string folder, HostProcess host)
    {
        while (Directory.GetFiles(folder, "*.partial").Length == 0)
        {
            if (host.HasExited)
            {
                throw new InvalidOperationException($"The download ended before a transfer started (exit code {host.ExitCode}): {host.Stderr}");
            }

            await Task.Delay(20);
        }
    }

    private enum RoundKind
    {
        Recoverable,
        Hopeless,
        Mixed,
    }

    private Reply Choose(Random random, string name, RoundKind kind, SortedDictionary<string, int> faults)
    {
        // One reply in three is good in mixed rounds; none in the others (there the last mirror decides).
        if (kind == RoundKind.Mixed && random.Next(3) == 0)
        {
            return new Reply.Ok(_data.Gzip[name]);
        }

        var gzip = _data.Gzip[name];
        var fault = (Fault)random.Next(Enum.GetValues<Fault>().Length);
        lock (faults)
        {
            faults[fault.ToString()] = faults.GetValueOrDefault(fault.ToString()) + 1;
        }

        return fault switch
        {
            Fault.DropMidFile => new Reply.Truncated(gzip, random.Next(gzip.Length)),
            Fault.ResetMidFile => new Reply.Reset(gzip, random.Next(gzip.Length)),
            Fault.NotFound => Reply.NotFound,
            Fault.ServerError => new Reply.StatusOnly(500, "Internal Server Error"),
            Fault.Unavailable => new Reply.StatusOnly(503, "Service Unavailable"),
            Fault.CorruptGzip => new Reply.Ok(_data.CorruptGzip(name)),
            Fault.WrongContent => new Reply.Ok(_data.Gzip[SyntheticMnist.Names.First(n => n != name)]),
            Fault.Garbage => new Reply.Ok(RandomBytes(random, random.Next(1, 3 * gzip.Length))),
            Fault.Endless => new Reply.Endless(random.Next()),
            Fault.StallBeforeHeaders => new Reply.Stall(),
            _ => new Reply.Stall(gzip, random.Next(gzip.Length)),
        };
    }

    private async Task<(string Name, string? Problem)> DownloadAsync(string target, List<string> mirrors)
    {
        var options = new MnistDownloadOptions
        {
            Mirrors = mirrors,
            RequestTimeout = StallTimeout,
            RetriesPerMirror = 1,
            RetryDelay = TimeSpan.Zero,
        };
        using var hangGuard = new CancellationTokenSource(HangGuard);
        try
        {
            await new MnistDownloader(options, null, _data.Dataset).DownloadAsync(target, cancellationToken: hangGuard.Token);
            return ("downloaded", null);
        }
        catch (MnistDownloadException e)
        {
            var unnamed = mirrors.Where(m => !e.Message.Contains(m, StringComparison.Ordinal)).ToArray();
            var problem = unnamed.Length > 0 || e.Failures.Count < mirrors.Count || e.FileName is null
                ? $"the error does not name every mirror tried ({string.Join(", ", unnamed)}): {e.Message}"
                : null;
            return ("MnistDownloadException", problem);
        }
        catch (OperationCanceledException) when (hangGuard.IsCancellationRequested)
        {
            return ("hang", $"the download was still running after {HangGuard}");
        }
        catch (Exception e)
        {
            return ($"unexpected {e.GetType().Name}", e.ToString());
        }
    }

    /// <summary>Every entry must be a final name holding its verified content: no partial, temporary or damaged file.</summary>
    private string? CheckFolder(string folder)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(folder))
        {
            var name = Path.GetFileName(path);
            if (!_data.Plain.TryGetValue(name, out var expected))
            {
                return $"'{name}' was left in the folder";
            }

            if (!SHA256.HashData(File.ReadAllBytes(path)).AsSpan().SequenceEqual(SHA256.HashData(expected)))
            {
                return $"'{name}' holds damaged content under its final name";
            }
        }

        return null;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
