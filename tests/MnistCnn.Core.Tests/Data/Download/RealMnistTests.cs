using MnistCnn.Core.Data.Download;
using MnistCnn.Core.Data;

namespace MnistCnn.Core.Tests.Data.Download;

/// <summary>
/// Checks the real MNIST files against the real hash table. They are never skipped: CI runs
/// <c>./build.sh data</c> first, and a missing folder is a failure that says how to fix it.
/// </summary>
[Trait("Category", "RealData")]
public sealed class RealMnistTests
{
    [Fact]
    public async Task VerifyAsync_RepositoryDataFolder_FindsAllFourFilesVerified()
    {
        var folder = RealMnistFolder.Path;
        Directory.Exists(folder).Should().BeTrue($"the real MNIST files are expected in {folder}; {RealMnistFolder.HowToGetThem}");

        var problems = await new MnistDownloader().VerifyAsync(folder);

        problems.Should().BeEmpty($"{folder} must hold the verified MNIST files; {RealMnistFolder.HowToGetThem}");
    }

    [Fact]
    public async Task DownloadAsync_RepositoryDataFolderAsMirror_CopiesAndVerifiesRealFiles()
    {
        var folder = RealMnistFolder.Path;
        Directory.Exists(folder).Should().BeTrue($"the real MNIST files are expected in {folder}; {RealMnistFolder.HowToGetThem}");
        using var target = new TempDirectory();
        var downloader = new MnistDownloader(new MnistDownloadOptions { Mirrors = [folder] });

        var result = await downloader.DownloadAsync(target.Path);

        result.DownloadedFiles.Should().Equal(MnistDownloader.FileNames);
        (await downloader.VerifyAsync(target.Path)).Should().BeEmpty();
        new FileInfo(target.File("train-images-idx3-ubyte")).Length.Should().Be(47_040_016);
    }
}
