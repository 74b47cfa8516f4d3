using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Data;

namespace MnistCnn.Core.Tests.Data;

public sealed class MnistDatasetTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(MnistSplit.Train, "train", 12)]
    [InlineData(MnistSplit.Test, "t10k", 5)]
    public void Load_StandardNamesInTheFolder_LoadsTheSplit(MnistSplit split, string prefix, int count)
    {
        var (pixels, labels) = WriteSplit("", prefix, count, gzip: false);
        WriteSplit("", prefix == "train" ? "t10k" : "train", 3, gzip: false);

        using var dataset = MnistDataset.Load(_temp.Path, split);

        dataset.Count.Should().Be(count);
        dataset.ImageHeight.Should().Be(4);
        dataset.ImageWidth.Should().Be(3);
        Enumerable.Range(0, count).Select(dataset.GetLabel).Should().Equal(labels.Select(l => (int)l));
        using var batch = dataset.GetBatch(0, count);
        batch.Images.data<float>().ToArray().Should().Equal(pixels.Select(p => p / 255f));
    }

    [Fact]
    public void Load_GzipFiles_LoadsTheSplit()
    {
        var (_, labels) = WriteSplit("", "train", 7, gzip: true);

        using var dataset = MnistDataset.Load(_temp.Path, MnistSplit.Train);

        dataset.Count.Should().Be(7);
        dataset.GetLabel(6).Should().Be(labels[6]);
    }

    [Theory]
    [InlineData("MNIST/raw")]
    [InlineData("raw")]
    public void Load_TorchvisionLayout_FindsTheFilesBelowTheFolder(string subfolder)
    {
        WriteSplit(subfolder, "t10k", 4, gzip: true);

        using var dataset = MnistDataset.Load(_temp.Path, MnistSplit.Test);

        dataset.Count.Should().Be(4);
    }

    [Fact]
    public void Load_PlainAndGzipSideBySide_PrefersThePlainFile()
    {
        WriteSplit("", "train", 3, gzip: false);
        IdxFile.WriteLabels(_temp.File("train-labels-idx1-ubyte.gz"), [9, 9]);

        using var dataset = MnistDataset.Load(_temp.Path, MnistSplit.Train);

        dataset.Count.Should().Be(3);
    }

    [Fact]
    public void Load_NoFiles_ThrowsFileNotFoundListingEveryNameAndFolder()
    {
        var act = () => MnistDataset.Load(_temp.Path, MnistSplit.Test);

        var message = act.Should().Throw<FileNotFoundException>().Which.Message;
        message.Should().Contain("found no t10k-images-idx3-ubyte or t10k-labels-idx1-ubyte");
        message.Should().Contain("t10k-images-idx3-ubyte, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte.gz");
        message.Should().Contain($"in {_temp.Path}, {Path.Combine(_temp.Path, "MNIST", "raw")}, {Path.Combine(_temp.Path, "raw")}");
    }

    [Fact]
    public void Load_OnlyImages_ThrowsFileNotFoundNamingTheLabels()
    {
        var (pixels, _) = SyntheticDigits.Make(2, 2, 2);
        IdxFile.WriteImages(_temp.File("train-images-idx3-ubyte"), pixels, 2, 2, 2);

        var act = () => MnistDataset.Load(_temp.Path, MnistSplit.Train);

        var error = act.Should().Throw<FileNotFoundException>().Which;
        error.Message.Should().Contain("found no train-labels-idx1-ubyte. Looked for train-labels-idx1-ubyte, train-labels-idx1-ubyte.gz in");
        error.FileName.Should().Be(Path.Combine(_temp.Path, "train-labels-idx1-ubyte"));
    }

    [Fact]
    public void Load_MissingFolder_ThrowsDirectoryNotFound()
    {
        var folder = Path.Combine(_temp.Path, "absent");

        var act = () => MnistDataset.Load(folder, MnistSplit.Train);

        act.Should().Throw<DirectoryNotFoundException>().Which.Message.Should().Contain(folder);
    }

    [Fact]
    public void Load_FewerLabelsThanImages_ThrowsCountMismatchNamingBothFiles()
    {
        var (pixels, labels) = SyntheticDigits.Make(5, 2, 2);
        var imagesPath = _temp.File("train-images-idx3-ubyte");
        var labelsPath = _temp.File("train-labels-idx1-ubyte");
        IdxFile.WriteImages(imagesPath, pixels, 5, 2, 2);
        IdxFile.WriteLabels(labelsPath, labels.AsSpan(0, 4));

        var act = () => MnistDataset.Load(_temp.Path, MnistSplit.Train);

        var error = act.Should().Throw<IdxFormatException>().Which;
        error.Reason.Should().Be(IdxFormatError.CountMismatch);
        error.FilePath.Should().Be(labelsPath);
        error.Message.Should().Be($"{labelsPath}: holds 4 labels but '{imagesPath}' holds 5 images; the counts must agree.");
    }

    [Theory]
    [InlineData(10, 10)]
    [InlineData(255, 10)]
    [InlineData(3, 3)]
    public void Load_LabelNotBelowTheClassCount_ThrowsNamingFileIndexAndValue(byte label, int classCount)
    {
        var (pixels, _) = SyntheticDigits.Make(4, 2, 2);
        var labelsPath = _temp.File("t10k-labels-idx1-ubyte");
        IdxFile.WriteImages(_temp.File("t10k-images-idx3-ubyte"), pixels, 4, 2, 2);
        IdxFile.WriteLabels(labelsPath, [0, 1, label, 2]);

        var act = () => MnistDataset.Load(_temp.Path, MnistSplit.Test, new DigitDatasetOptions { ClassCount = classCount });

        var error = act.Should().Throw<IdxFormatException>().Which;
        error.Reason.Should().Be(IdxFormatError.LabelOutOfRange);
        error.FilePath.Should().Be(labelsPath);
        error.Message.Should().Be($"{labelsPath}: label {label} at index 2 is not below the class count {classCount}.");
    }

    [Fact]
    public void Load_MalformedImageFile_ThrowsIdxFormatExceptionNamingIt()
    {
        WriteSplit("", "train", 3, gzip: false);
        var imagesPath = Path.Combine(_temp.Path, "train-images-idx3-ubyte");
        File.WriteAllBytes(imagesPath, IdxBytes.File(14, 3, 2, 2));

        var act = () => MnistDataset.Load(_temp.Path, MnistSplit.Train);

        var error = act.Should().Throw<IdxFormatException>().Which;
        error.Reason.Should().Be(IdxFormatError.TrailingData);
        error.Message.Should().StartWith($"{imagesPath}: declares 3 images of 2x2 (12 bytes)");
    }

    [Fact]
    public void Load_FashionMnistOptions_NamesTheClasses()
    {
        WriteSplit("", "train", 10, gzip: false);

        using var dataset = MnistDataset.Load(_temp.Path, MnistSplit.Train, DigitDatasetOptions.FashionMnist);

        dataset.ClassNames.Should().HaveCount(10);
        dataset.ClassNames[0].Should().Be("T-shirt/top");
        dataset.ClassNames[9].Should().Be("Ankle boot");
    }

    [Fact]
    public void KMnistOptions_NameTenClassesInHiraganaOrder()
    {
        DigitDatasetOptions.KMnist.ClassCount.Should().Be(10);
        DigitDatasetOptions.KMnist.ClassNames.Should().Equal("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo");
    }

    [Fact]
    public void Load_UndefinedSplit_ThrowsArgumentOutOfRange()
    {
        var act = () => MnistDataset.Load(_temp.Path, (MnistSplit)7);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("split");
    }

    [Fact]
    public void Load_EmptyFolderName_ThrowsArgumentException()
    {
        var act = () => MnistDataset.Load("", MnistSplit.Train);

        act.Should().Throw<ArgumentException>().WithParameterName("folder");
    }

    /// <summary>Writes a split of 4x3 synthetic images under the standard names.</summary>
    private (byte[] Pixels, byte[] Labels) WriteSplit(string subfolder, string prefix, int count, bool gzip)
    {
        var (pixels, labels) = SyntheticDigits.Make(count, 4, 3);
        var suffix = gzip ? ".gz" : string.Empty;
        IdxFile.WriteImages(_temp.File(Path.Combine(subfolder, $"{prefix}-images-idx3-ubyte{suffix}")), pixels, count, 4, 3, gzip);
        IdxFile.WriteLabels(_temp.File(Path.Combine(subfolder, $"{prefix}-labels-idx1-ubyte{suffix}")), labels, gzip);
        return (pixels, labels);
    }
}
