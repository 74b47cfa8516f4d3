using System.Diagnostics;
using MnistCnn.Core.Data;
using MnistCnn.Core.Data.Download;
using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Core.Tests.Data.Download;

public sealed class MnistDatasetInfoTests
{
    [Fact]
    public void All_Always_ListsMnistFashionMnistAndKmnist()
    {
        MnistDatasetInfo.All.Should().Equal(MnistDatasetInfo.Mnist, MnistDatasetInfo.FashionMnist, MnistDatasetInfo.Kmnist);
        MnistDatasetInfo.All.Select(d => d.Name).Should().Equal("MNIST", "Fashion-MNIST", "KMNIST");
        MnistDatasetInfo.All.Select(d => d.FolderName).Should().Equal("mnist", "fashion-mnist", "kmnist");
        MnistDatasetInfo.All.Select(d => d.ToString()).Should().Equal("MNIST", "Fashion-MNIST", "KMNIST");
    }

    [Fact]
    public void FileNames_EveryDataset_AreMnistsNames()
    {
        foreach (var dataset in MnistDatasetInfo.All)
        {
            dataset.FileNames.Should().Equal(MnistDownloader.FileNames);
        }
    }

    [Fact]
    public void Mnist_Always_HasTorchvisionsMirrorsDigitNamesAndPinnedSha256()
    {
        var mnist = MnistDatasetInfo.Mnist;

        mnist.DefaultMirrors.Should().Equal(MnistDownloadOptions.DefaultMirrors);
        mnist.ClassNames.Should().Equal("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        mnist.DatasetOptions.Should().BeSameAs(DigitDatasetOptions.Default);
        mnist.HasPinnedSha256.Should().BeTrue();
    }

    [Fact]
    public void FashionMnist_Always_HasZalandosMirrorClothingNamesAndPublishedMd5s()
    {
        var fashion = MnistDatasetInfo.FashionMnist;

        fashion.DefaultMirrors.Should().Equal("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/");
        fashion.ClassNames.Should().Equal("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
        fashion.DatasetOptions.ClassNames.Should().Equal(fashion.ClassNames);
        fashion.Files.Select(f => f.GzipMd5).Should().Equal(
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe", "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310");
        fashion.Files.Select(f => f.Sha256).Should().Equal(
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34");
        fashion.HasPinnedSha256.Should().BeTrue();
    }

    [Theory]
    [InlineData("Mnist")]
    [InlineData("FashionMnist")]
    public void DataScript_PinnedSha256s_AreReadFromTheLibrarysTable(string table)
    {
        // eng/data.sh verifies the files before any .NET code is built, so it reads MnistFiles.cs as text: this
        // runs that reader and checks it finds every pinned value.
        var start = new ProcessStartInfo("bash", [System.IO.Path.Combine(RepositoryFolder.Root, "eng", "data.sh"), "--print-sha256", table])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var script = Process.Start(start)!;
        var output = script.StandardOutput.ReadToEnd();
        var error = script.StandardError.ReadToEnd();
        script.WaitForExit();

        script.ExitCode.Should().Be(0, error);
        var read = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split("  "))
            .ToDictionary(parts => parts[1], parts => parts[0]);
        var info = table == "Mnist" ? MnistDatasetInfo.Mnist : MnistDatasetInfo.FashionMnist;
        read.Should().BeEquivalentTo(info.Files.ToDictionary(f => f.Name, f => f.Sha256));
    }

    [Fact]
    public void Kmnist_Always_HasCodhsMirrorHiraganaNamesAndPublishedMd5s()
    {
        var kmnist = MnistDatasetInfo.Kmnist;

        kmnist.DefaultMirrors.Should().Equal("http://codh.rois.ac.jp/kmnist/dataset/kmnist/");
        kmnist.ClassNames.Should().Equal("o (お)", "ki (き)", "su (す)", "tsu (つ)", "na (な)", "ha (は)", "ma (ま)", "ya (や)", "re (れ)", "wo (を)");
        kmnist.ClassNames.Select(n => n.Split(' ')[0]).Should().Equal(kmnist.DatasetOptions.ClassNames, "the loader's names are the romanisation alone");
        kmnist.Files.Select(f => f.GzipMd5).Should().Equal(
            "bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344", "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134");
        kmnist.HasPinnedSha256.Should().BeFalse();
    }

    [Fact]
    public void Files_EveryDataset_HaveMnistsLengths()
    {
        foreach (var dataset in MnistDatasetInfo.All)
        {
            dataset.Files.Select(f => f.Length).Should().Equal(47_040_016L, 60_008L, 7_840_016L, 10_008L);
        }
    }
}
