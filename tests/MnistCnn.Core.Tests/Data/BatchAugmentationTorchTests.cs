using MnistCnn.Core.Data;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Data;

/// <summary>
/// The managed augmentation (<see cref="BatchAugmentation.Apply"/> on the CPU) against torch's <c>affine_grid</c> +
/// <c>grid_sample</c> (<see cref="BatchAugmentation.ApplyWithTorch"/>) on the same draws.
/// </summary>
public sealed class BatchAugmentationTorchTests
{
    private static readonly PixelNormalization Normalised = PixelNormalization.Mnist;

    public static TheoryData<string> EdgeCases => new() { "defaults", "shifts off the image", "shrink", "enlarge", "rotations", "everything" };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [Trait("Category", "RealData")]
    public void Apply_RealTrainingImages_EqualsTorchBitForBit(bool normalise)
    {
        using var dataset = MnistDataset.Load(RealMnistFolder.Path, MnistSplit.Train, new DigitDatasetOptions { Normalization = normalise ? Normalised : null });

        var (managed, torch) = Both(dataset, new DigitAugmentation(), count: 1024, seed: 0, epoch: 3);

        Mismatches(managed, torch).Should().Be(0);
    }

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void Apply_EdgeCases_EqualTorchBitForBit(string name)
    {
        var augmentation = Augmentation(name);
        foreach (var (height, width) in new[] { (28, 28), (20, 12), (9, 31) })
        {
            using var dataset = SyntheticDigits.Dataset(64, height, width);
            using var normalised = SyntheticDigits.Dataset(64, height, width, new DigitDatasetOptions { Normalization = Normalised });

            var (managed, torch) = Both(dataset, augmentation, count: 64, seed: 5, epoch: 1);
            var (managedNormalised, torchNormalised) = Both(normalised, augmentation, count: 64, seed: 5, epoch: 1);

            Mismatches(managed, torch).Should().Be(0, $"{name}, {height}x{width}");
            Mismatches(managedNormalised, torchNormalised).Should().Be(0, $"{name}, {height}x{width}, normalised");
        }
    }

    [Fact]
    public void Apply_ShiftsBeyondTheImage_GiveTheBackgroundLikeTorch()
    {
        using var dataset = SyntheticDigits.Dataset(32, options: new DigitDatasetOptions { Normalization = Normalised });
        var far = new DigitAugmentation { MaxShift = 200, MaxRotationDegrees = 0, MinScale = 1, MaxScale = 1 };

        var (managed, torch) = Both(dataset, far, count: 32, seed: 2, epoch: 0);

        Mismatches(managed, torch).Should().Be(0);
        var background = -Normalised.Mean / Normalised.StandardDeviation;
        managed.Count(p => p == background).Should().BeGreaterThan(managed.Length / 2, "most images move entirely off the frame");
    }

    [Theory]
    [InlineData(34, 4)]
    [InlineData(8, 1.5)]
    public void Apply_Elastic_EqualsTorchWithin1e5(double alpha, double sigma)
    {
        using var dataset = MnistDataset.Load(RealMnistFolder.Path, MnistSplit.Train, new DigitDatasetOptions { Normalization = Normalised });
        var elastic = new DigitAugmentation { ElasticAlpha = alpha, ElasticSigma = sigma };

        var (managed, torch) = Both(dataset, elastic, count: 256, seed: 1, epoch: 2);

        managed.Zip(torch, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-5f);
        managed.Should().NotEqual(Both(dataset, new DigitAugmentation(), count: 256, seed: 1, epoch: 2).Managed, "the field moves pixels");
    }

    private static DigitAugmentation Augmentation(string name) => name switch
    {
        "defaults" => new DigitAugmentation(),
        "shifts off the image" => new DigitAugmentation { MaxShift = 30, MaxRotationDegrees = 0, MinScale = 1, MaxScale = 1 },
        "shrink" => new DigitAugmentation { MaxShift = 0, MaxRotationDegrees = 0, MinScale = 0.3, MaxScale = 0.9 },
        "enlarge" => new DigitAugmentation { MaxShift = 0, MaxRotationDegrees = 0, MinScale = 1.1, MaxScale = 3 },
        "rotations" => new DigitAugmentation { MaxShift = 0, MaxRotationDegrees = 180, MinScale = 1, MaxScale = 1 },
        _ => new DigitAugmentation { MaxShift = 8, MaxRotationDegrees = 90, MinScale = 0.5, MaxScale = 2 },
    };

    private static (float[] Managed, float[] Torch) Both(DigitDataset dataset, DigitAugmentation augmentation, int count, long seed, int epoch)
    {
        var indices = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        using var managed = BatchAugmentation.Apply(dataset.GetBatch(0, count), indices, augmentation, seed, epoch, dataset.Normalization);
        using var torch = BatchAugmentation.ApplyWithTorch(dataset.GetBatch(0, count), indices, augmentation, seed, epoch, dataset.Normalization);
        return (managed.Images.data<float>().ToArray(), torch.Images.data<float>().ToArray());
    }

    private static int Mismatches(float[] managed, float[] torch)
    {
        managed.Should().HaveCount(torch.Length);
        var mismatches = managed.Zip(torch).Count(p => BitConverter.SingleToInt32Bits(p.First) != BitConverter.SingleToInt32Bits(p.Second));
        var largest = managed.Zip(torch, (a, b) => Math.Abs(a - b)).Max();
        largest.Should().BeLessThan(1e-5f, $"{mismatches} of {managed.Length} pixels differ");
        return mismatches;
    }
}
