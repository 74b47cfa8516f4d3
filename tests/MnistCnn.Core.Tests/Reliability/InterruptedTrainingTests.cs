using System.Globalization;
using Xunit.Abstractions;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// Training runs in a child process killed with SIGKILL at random moments and inside checkpoint writes,
/// then resumed from the checkpoint, must end with the weights of an uninterrupted run, bit for bit.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(TorchGlobalState.Name)]
public sealed class InterruptedTrainingTests(ITestOutputHelper output) : IDisposable
{
    private const int Epochs = 40;
    private const int PlannedKills = 12;
    private const int MaxKills = 30;
    private const int MaxRounds = 20;
    private const string CheckpointName = "run.ckpt";

    // AtomicFile's temporary name: ".<name>.<guid>.tmp" in the destination's folder.
    private const string TemporaryPattern = "." + CheckpointName + ".*.tmp";

    private readonly TempDirectory _work = TempDirectory.OnDisk();

    private enum Kill
    {
        AtRandomMoment,
        OnCheckpointWrite,
        None,
    }

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task Train_KilledDuringTrainingAndCheckpointWrites_ResumesToTheWeightsOfAnUninterruptedRun()
    {
        var referenceWeights = _work.File("reference", "final.safetensors");
        var (referenceFinished, _) = await RunAsync(_work.File("reference", CheckpointName), referenceWeights, Kill.None, null);
        referenceFinished.Should().BeTrue();

        var folder = Path.GetDirectoryName(_work.File("killed", CheckpointName))!;
        var checkpoint = Path.Combine(folder, CheckpointName);
        var finalWeights = Path.Combine(folder, "final.safetensors");
        var random = new Random(42);
        var seenTemporaries = new HashSet<string>(StringComparer.Ordinal);
        var (kills, randomKills, writeKills, midWriteKills, resumedRuns, lostEpochs, announced, rounds) = (0, 0, 0, 0, 0, 0, 0, 0);
        while (true)
        {
            var kill = kills < PlannedKills ? (Kill)(kills % 2)
                : midWriteKills == 0 && kills < MaxKills ? Kill.OnCheckpointWrite
                : Kill.None;
            var (finished, run) = await RunAsync(checkpoint, finalWeights, kill, random);

            // Every epoch the killed process announced as saved must be in the checkpoint the next run loads.
            if (run.StartedFrom > 0)
            {
                resumedRuns++;
            }

            lostEpochs += Math.Max(0, announced - run.StartedFrom);
            announced = Math.Max(announced, run.LastSaved);
            if (finished && kill == Kill.None)
            {
                break;
            }

            if (finished)
            {
                // The run outpaced its kill (a quiet machine trains fast): start again from nothing, so the
                // remaining kills have a run to land in.
                (rounds < MaxRounds).Should().BeTrue($"{MaxRounds} runs should give {PlannedKills} kills a run to land in");
                rounds++;
                File.Delete(checkpoint);
                File.Delete(finalWeights);
                announced = 0;
                continue;
            }

            kills++;
            _ = kill == Kill.AtRandomMoment ? randomKills++ : writeKills++;
            var leftBehind = Directory.GetFiles(folder, TemporaryPattern).Where(seenTemporaries.Add).Count();
            if (leftBehind > 0)
            {
                midWriteKills++;
            }
        }

        var identical = File.ReadAllBytes(finalWeights).AsSpan().SequenceEqual(File.ReadAllBytes(referenceWeights));
        ReliabilityReport.Record(
            "Interrupted training (child process, SIGKILL, Trainer.Resume from TrainerOptions.CheckpointPath)",
            [
                $"runs killed: {kills} ({randomKills} at random moments, {writeKills} as a checkpoint temporary file appeared); runs resumed from a checkpoint: {resumedRuns}; fresh starts after a run outpaced its kill: {rounds}",
                $"kills that landed mid-write (temporary file left behind, never loaded): {midWriteKills}",
                $"epochs announced as saved but missing after a kill (data lost): {lostEpochs}",
                $"final weights after {Epochs} epochs identical to an uninterrupted run, bit for bit: {identical}",
            ],
            output);

        lostEpochs.Should().Be(0);
        identical.Should().BeTrue();
        kills.Should().BeGreaterThanOrEqualTo(PlannedKills);
        midWriteKills.Should().BeGreaterThan(0, "a kill must land inside a checkpoint write for the test to prove anything about it");
        Directory.GetFiles(folder).Select(Path.GetFileName).Where(n => !n!.EndsWith(".tmp", StringComparison.Ordinal))
            .Should().BeEquivalentTo(CheckpointName, "final.safetensors");
    }

    /// <summary>Runs the host once; returns whether it finished (exit 0, "done"), and what it reported.</summary>
    private async Task<(bool Finished, RunReport Report)> RunAsync(string checkpoint, string finalWeights, Kill kill, Random? random)
    {
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(checkpoint)!, TemporaryPattern);
        using var host = HostProcess.Start("train", checkpoint, finalWeights, Epochs.ToString(CultureInfo.InvariantCulture));
        var lastSaved = 0;
        var done = false;
        void Track(string line)
        {
            if (line.StartsWith("saved ", StringComparison.Ordinal))
            {
                lastSaved = int.Parse(line["saved ".Length..], CultureInfo.InvariantCulture);
            }

            done |= line == "done";
        }

        var start = await host.ReadUntilAsync(l => l.StartsWith("start ", StringComparison.Ordinal));
        if (start is null)
        {
            await host.WaitForExitAsync();
            throw new InvalidOperationException($"The host ended before training started (exit code {host.ExitCode}): {host.Stderr}");
        }

        var startedFrom = int.Parse(start["start ".Length..], CultureInfo.InvariantCulture);
        switch (kill)
        {
            case Kill.AtRandomMoment:
                await Task.Delay(random!.Next(0, 400));
                host.Kill();
                break;
            case Kill.OnCheckpointWrite:
                watcher.Created += (_, _) => host.Kill();
                watcher.EnableRaisingEvents = true;
                break;
        }

        await host.ReadUntilAsync(_ => false, Track);
        await host.WaitForExitAsync();
        var finished = done && host.ExitCode == 0;
        if (kill == Kill.None && !finished)
        {
            throw new InvalidOperationException($"The host failed (exit code {host.ExitCode}): {host.Stderr}");
        }

        return (finished, new RunReport(startedFrom, lastSaved));
    }

    private sealed record RunReport(int StartedFrom, int LastSaved);
}
