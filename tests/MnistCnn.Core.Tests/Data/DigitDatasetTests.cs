using MnistCnn.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Data;

public sealed class DigitDatasetTests
{
    [Fact]
    public void GetBatch_Range_ScalesPixelsLikeToTensor()
    {
        var (pixels, labels) = SyntheticDigits.Make(5, 4, 3);
        using var dataset = new DigitDataset(pixels, labels, 4, 3);

        using var batch = dataset.GetBatch(1, 3);

        batch.Images.shape.Should().Equal(3, 1, 4, 3);
        batch.Images.dtype.Should().Be(ScalarType.Float32);
        batch.Labels.dtype.Should().Be(ScalarType.Int64);
        var expected = pixels.Skip(12).Take(36).Select(p => p / 255f).ToArray();
        batch.Images.data<float>().ToArray().Should().Equal(expected);
        batch.Labels.data<long>().ToArray().Should().Equal(1L, 2L, 3L);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GetBatch_EveryPixelValue_EqualsTorchsOwnConversionBitForBit(bool normalize)
    {
        // 3 images of 11x9: 297 bytes cover every value and both the vectorised part and the scalar tail.
        var pixels = Enumerable.Range(0, 297).Select(i => (byte)(i % 256)).ToArray();
        var options = new DigitDatasetOptions { Normalization = normalize ? PixelNormalization.Mnist : null };
        using var dataset = new DigitDataset(pixels, [0, 1, 2], 11, 9, options);
        using var scope = NewDisposeScope();
        var expected = tensor(pixels, [3, 1, 11, 9], ScalarType.Byte).to_type(ScalarType.Float32).div_(255f);
        if (normalize)
        {
            expected.sub_(PixelNormalization.Mnist.Mean).div_(PixelNormalization.Mnist.StandardDeviation);
        }

        var range = dataset.GetBatch(0, 3);
        var gathered = dataset.GetBatch(tensor(new long[] { 0, 1, 2 }));

        range.Images.data<float>().ToArray().Should().Equal(expected.data<float>().ToArray());
        gathered.Images.data<float>().ToArray().Should().Equal(expected.data<float>().ToArray());
    }

    [Fact]
    public void GetBatch_IndexOutsideTheDataset_ThrowsArgumentOutOfRange()
    {
        using var dataset = SyntheticDigits.Dataset(3, 2, 2);
        using var indices = tensor(new long[] { 0, 3 });

        ((Action)(() => dataset.GetBatch(indices))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Index 3 is outside the dataset's 3 images*");
    }

    [Fact]
    public void Constructor_CallersArray_IsCopied()
    {
        var (pixels, labels) = SyntheticDigits.Make(2, 2, 2);
        using var dataset = new DigitDataset(pixels, labels, 2, 2);

        Array.Fill(pixels, (byte)0);

        using var batch = dataset.GetBatch(0, 2);
        batch.Images.data<float>().ToArray().Should().Equal(SyntheticDigits.Make(2, 2, 2).Pixels.Select(p => p / 255f));
    }

    [Fact]
    public void GetBatch_Indices_GathersInTheGivenOrder()
    {
        var (pixels, labels) = SyntheticDigits.Make(6, 2, 2);
        using var dataset = new DigitDataset(pixels, labels, 2, 2);
        using var indices = tensor(new long[] { 5, 0, 3 });

        using var batch = dataset.GetBatch(indices);

        batch.Labels.data<long>().ToArray().Should().Equal(5L, 0L, 3L);
        batch.Images[1].flatten().data<float>().ToArray().Should().Equal(pixels.Take(4).Select(p => p / 255f));
        batch.Images[0].flatten().data<float>().ToArray().Should().Equal(pixels.Skip(20).Take(4).Select(p => p / 255f));
    }

    [Fact]
    public void GetBatch_WithNormalization_AppliesMeanAndStd()
    {
        var (pixels, labels) = SyntheticDigits.Make(2, 2, 2);
        using var dataset = new DigitDataset(pixels, labels, 2, 2, new DigitDatasetOptions { Normalization = PixelNormalization.Mnist });

        using var batch = dataset.GetBatch(0, 2);

        var expected = pixels.Select(p => ((p / 255f) - 0.1307f) / 0.3081f).ToArray();
        batch.Images.data<float>().ToArray().Should().Equal(expected);
    }

    [Fact]
    public void GetBatch_Range_IsIndependentOfTheDataset()
    {
        var (pixels, labels) = SyntheticDigits.Make(3, 2, 2);
        var dataset = new DigitDataset(pixels, labels, 2, 2);
        using var batch = dataset.GetBatch(0, 3);

        dataset.Dispose();

        batch.Labels.data<long>().ToArray().Should().Equal(0L, 1L, 2L);
        batch.Images.sum().item<float>().Should().BeApproximately(pixels.Sum(p => p / 255f), 1e-4f);
    }

    [Fact]
    public void GetBatch_InsideCallerScope_JoinsThatScope()
    {
        using var dataset = SyntheticDigits.Dataset(4, 2, 2);
        DigitBatch batch;
        using (var scope = NewDisposeScope())
        {
            batch = dataset.GetBatch(0, 2);
            batch.Images.IsInvalid.Should().BeFalse();
        }

        batch.Images.IsInvalid.Should().BeTrue();
        batch.Labels.IsInvalid.Should().BeTrue();
    }

    [Fact]
    public void Constructor_LabelAtClassCount_Throws()
    {
        var act = () => new DigitDataset(new byte[4], [10], 2, 2);

        act.Should().Throw<ArgumentException>().WithParameterName("labels").WithMessage("*Label 10 at index 0*class count 10*");
    }

    [Fact]
    public void Constructor_PixelCountMismatch_Throws()
    {
        var act = () => new DigitDataset(new byte[7], [1, 2], 2, 2);

        act.Should().Throw<ArgumentException>().WithParameterName("pixels").WithMessage("*need 8 pixel bytes; got 7*");
    }

    [Fact]
    public void Constructor_NoImages_Throws()
    {
        var act = () => new DigitDataset([], [], 2, 2);

        act.Should().Throw<ArgumentException>().WithParameterName("labels");
    }

    [Fact]
    public void Constructor_ClassNamesOfWrongCount_Throws()
    {
        var act = () => new DigitDataset(new byte[4], [0], 2, 2, new DigitDatasetOptions { ClassCount = 3, ClassNames = ["a", "b"] });

        act.Should().Throw<ArgumentException>().WithMessage("*2 names*ClassCount is 3*");
    }

    [Fact]
    public void Properties_DescribeTheData()
    {
        using var dataset = new DigitDataset(new byte[12], [0, 1, 2], 2, 2, new DigitDatasetOptions { ClassCount = 3, ClassNames = ["a", "b", "c"] });

        dataset.Count.Should().Be(3);
        dataset.ImageHeight.Should().Be(2);
        dataset.ImageWidth.Should().Be(2);
        dataset.ClassCount.Should().Be(3);
        dataset.ClassNames.Should().Equal("a", "b", "c");
        dataset.GetLabel(2).Should().Be(2);
    }

    [Fact]
    public void Members_AfterDispose_ThrowObjectDisposed()
    {
        var dataset = SyntheticDigits.Dataset(2, 2, 2);
        dataset.Dispose();

        ((Action)(() => dataset.GetBatch(0, 1))).Should().Throw<ObjectDisposedException>();
        ((Action)(() => dataset.GetLabel(0))).Should().Throw<ObjectDisposedException>();
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(0, 0)]
    [InlineData(3, 2)]
    public void GetBatch_RangeOutside_Throws(int start, int count)
    {
        using var dataset = SyntheticDigits.Dataset(4, 2, 2);

        ((Action)(() => dataset.GetBatch(start, count))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void PixelNormalization_NonPositiveStd_Throws()
    {
        ((Action)(() => _ = new PixelNormalization(0.5f, 0f))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("standardDeviation");
    }
}
