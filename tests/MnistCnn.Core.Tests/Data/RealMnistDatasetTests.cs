using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Data;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Data;

/// <summary>
/// Loads the real MNIST files: <c>$MNISTCNN_DATA_DIR</c> (the folder holding them, or its parent holding
/// <c>mnist/</c>), else <c>data/mnist</c> of the repository. Missing files fail the tests: they are part
/// of the suite, not optional.
/// </summary>
[Trait("Category", "RealData")]
public sealed class RealMnistDatasetTests
{
    private static readonly Lazy<string> Folder = new(() =>
        Directory.Exists(RealMnistFolder.Path)
            ? RealMnistFolder.Path
            : throw new DirectoryNotFoundException($"{RealMnistFolder.Path} does not exist; {RealMnistFolder.HowToGetThem}"));

    [Theory]
    [InlineData(MnistSplit.Train, 60000, new[] { 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 })]
    [InlineData(MnistSplit.Test, 10000, new[] { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 })]
    public void Load_RealSplit_HasMnistsShapeAndLabelHistogram(MnistSplit split, int count, int[] histogram)
    {
        using var dataset = MnistDataset.Load(Folder.Value, split);

        dataset.Count.Should().Be(count);
        dataset.ImageHeight.Should().Be(28);
        dataset.ImageWidth.Should().Be(28);
        var counts = new int[10];
        for (var i = 0; i < dataset.Count; i++)
        {
            counts[dataset.GetLabel(i)]++;
        }

        counts.Should().Equal(histogram);
    }

    [Fact]
    public void GetBatch_RealTrainingImages_AreTheRawBytesOver255()
    {
        using var dataset = MnistDataset.Load(Folder.Value, MnistSplit.Train);
        var raw = IdxFile.ReadImages(FilePath("train-images-idx3-ubyte"));
        var rawLabels = IdxFile.ReadLabels(FilePath("train-labels-idx1-ubyte"));

        foreach (var (start, count) in new[] { (0, 64), (30016, 64), (59968, 32) })
        {
            using var batch = dataset.GetBatch(start, count);
            batch.Images.data<float>().ToArray().Should().Equal(Scaled(raw.Pixels, start, count), $"batch [{start}, {start + count}) is raw / 255");
            batch.Labels.data<long>().ToArray().Should().Equal(rawLabels.Skip(start).Take(count).Select(l => (long)l));
        }
    }

    [Fact]
    public void ShuffledBatch_RealTrainingImages_GathersTheRawBytesOver255()
    {
        using var dataset = MnistDataset.Load(Folder.Value, MnistSplit.Train);
        var raw = IdxFile.ReadImages(FilePath("train-images-idx3-ubyte"));
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { Shuffle = true });
        var order = loader.GetOrder(0, seed: 11);

        using var batch = loader.GetBatches(0, seed: 11).First();

        var expected = order.Take(64).SelectMany(i => Scaled(raw.Pixels, (int)i, 1)).ToArray();
        batch.Images.data<float>().ToArray().Should().Equal(expected);
    }

    [Fact]
    public void Load_RealTestSplitCompressedWithGzip_EqualsThePlainFiles()
    {
        using var temp = new TempDirectory();
        var raw = IdxFile.ReadImages(FilePath("t10k-images-idx3-ubyte"));
        var labels = IdxFile.ReadLabels(FilePath("t10k-labels-idx1-ubyte"));
        IdxFile.WriteImages(temp.File("t10k-images-idx3-ubyte.gz"), raw.Pixels, raw.Count, raw.Height, raw.Width, gzip: true);
        IdxFile.WriteLabels(temp.File("t10k-labels-idx1-ubyte.gz"), labels, gzip: true);

        using var plain = MnistDataset.Load(Folder.Value, MnistSplit.Test);
        using var compressed = MnistDataset.Load(temp.Path, MnistSplit.Test);

        using var scope = NewDisposeScope();
        var a = plain.GetBatch(0, plain.Count);
        var b = compressed.GetBatch(0, compressed.Count);
        a.Images.eq(b.Images).all().item<bool>().Should().BeTrue();
        a.Labels.eq(b.Labels).all().item<bool>().Should().BeTrue();
    }

    private static float[] Scaled(byte[] pixels, int start, int count) =>
        pixels.AsSpan(start * 784, count * 784).ToArray().Select(p => p / 255f).ToArray();

    private static string FilePath(string name) => Path.Combine(Folder.Value, name);
}
