using Xunit.Abstractions;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// Checkpoint and weights saves on a file system that runs out of space: a clear <see cref="IOException"/> naming
/// the file, the previous files intact and loadable, nothing partial under a final name, and no epoch lost.
/// </summary>
/// <remarks>
/// The file system is a 2 MiB tmpfs mounted in a private mount namespace of the child process (<c>unshare</c>), so
/// it needs root (CI and <c>./build.sh test</c> run as root) or, elsewhere, unprivileged user namespaces.
/// </remarks>
[Trait("Category", "Reliability")]
[Collection(TorchGlobalState.Name)]
public sealed class FullDiskTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _work = TempDirectory.OnDisk();

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task Save_OnAFullFileSystem_ThrowsIOExceptionAndKeepsThePreviousFiles()
    {
        var mountPoint = _work.File("tiny");
        Directory.CreateDirectory(mountPoint);

        // Root mounts in a new mount namespace; anyone else first maps themselves to root in a new user namespace.
        // Mounts there are private to the child, except inside a chroot (./build.sh's Debian 13 root), whose "/" is
        // no mount point to change: its namespace is already private, so the child keeps that propagation.
        var isolation = Environment.IsPrivilegedProcess ? "--mount" : "--user --map-root-user --mount";
        string[] launcher =
        [
            "sh", "-c",
            $"p=private; unshare {isolation} --propagation private -- true 2>/dev/null || p=unchanged; " +
            $"exec unshare {isolation} --propagation $p -- sh -c 'mount -t tmpfs -o size=2m tmpfs \"$0\" && exec \"$@\"' \"$0\" \"$@\"",
            mountPoint,
        ];
        using var host = HostProcess.StartUnder(launcher, "fulldisk", mountPoint);
        var lines = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await host.ReadLineAsync() is { } line)
        {
            output.WriteLine(line);
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0)
            {
                lines[line[..colon]] = line[(colon + 2)..];
            }
        }

        await host.WaitForExitAsync();
        host.ExitCode.Should().Be(0, "the child reports every outcome and exits 0 (stderr: {0})", host.Stderr);

        lines["checkpoint-save"].Should().StartWith("IOException: Could not write '").And.Contain("run.ckpt'");
        lines["weights-save"].Should().StartWith("IOException: Could not write '").And.Contain("model.safetensors'");
        lines["files"].Should().Be("filler model.safetensors run.ckpt", "no temporary or partial file is left behind");
        lines["checkpoint-unchanged"].Should().Be("True");
        lines["weights-unchanged"].Should().Be("True");
        lines["weights-load"].Should().Be("ok");
        lines["resumed-epochs"].Should().Be("2", "the checkpoint of epoch 1 still resumes, so no epoch is lost");

        ReliabilityReport.Record(
            "Full disk (2 MiB tmpfs, filled after epoch 1's checkpoint and a weights save)",
            [
                $"checkpoint save of epoch 2: {lines["checkpoint-save"]}",
                $"weights save: {lines["weights-save"]}",
                $"files left: {lines["files"]} (no partial or temporary file)",
                "previous checkpoint and weights unchanged: yes; after freeing space the run resumed to epoch 2; data lost: 0",
            ],
            output);
    }
}
