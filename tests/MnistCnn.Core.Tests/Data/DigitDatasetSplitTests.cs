using MnistCnn.Core.Data;

namespace MnistCnn.Core.Tests.Data;

public sealed class DigitDatasetSplitTests
{
    // Class c has 20 (c + 1) images, labels interleaved; every 1x2 image holds its own index (low, high byte).
    private static DigitDataset Imbalanced(out byte[] labels)
    {
        var grouped = Enumerable.Range(0, 10).SelectMany(c => Enumerable.Repeat((byte)c, 20 * (c + 1))).ToArray();
        labels = [.. grouped.Select((label, i) => (label, key: (i * 7919) % grouped.Length)).OrderBy(p => p.key).Select(p => p.label)];
        var pixels = Enumerable.Range(0, grouped.Length).SelectMany(i => new[] { (byte)(i % 256), (byte)(i / 256) }).ToArray();
        return new DigitDataset(pixels, labels, 1, 2);
    }

    private static int[] Indices(DigitDataset part)
    {
        using var batch = part.GetBatch(0, part.Count);
        var values = batch.Images.reshape(part.Count, 2).mul(255).round().data<float>().ToArray();
        return Enumerable.Range(0, part.Count).Select(k => (int)values[2 * k] + (256 * (int)values[(2 * k) + 1])).ToArray();
    }

    [Fact]
    public void Split_ImbalancedClasses_HoldsOutTheFractionOfEveryClass()
    {
        using var all = Imbalanced(out var labels);

        var (train, validation) = all.Split(0.25, seed: 3);
        using var _ = train;
        using var __ = validation;

        var trainIndices = Indices(train);
        var validationIndices = Indices(validation);
        trainIndices.Concat(validationIndices).Order().Should().Equal(Enumerable.Range(0, all.Count), "the parts are disjoint and cover the dataset");
        trainIndices.Should().BeInAscendingOrder();
        validationIndices.Should().BeInAscendingOrder();
        for (var c = 0; c < 10; c++)
        {
            // 20 (c + 1) images: a quarter is 5 (c + 1), exactly.
            validationIndices.Count(i => labels[i] == c).Should().Be(5 * (c + 1), $"class {c}");
        }

        Enumerable.Range(0, train.Count).Select(train.GetLabel).Should().Equal(trainIndices.Select(i => (int)labels[i]));
        Enumerable.Range(0, validation.Count).Select(validation.GetLabel).Should().Equal(validationIndices.Select(i => (int)labels[i]));
    }

    [Fact]
    public void Split_SameSeedTwice_SameParts_OtherSeed_OtherParts()
    {
        using var all = Imbalanced(out _);

        var first = all.Split(0.2, seed: 11);
        var again = all.Split(0.2, seed: 11);
        var other = all.Split(0.2, seed: 12);

        Indices(first.Validation).Should().Equal(Indices(again.Validation));
        Indices(other.Validation).Should().NotEqual(Indices(first.Validation));
        Indices(other.Validation).Length.Should().Be(Indices(first.Validation).Length);
        foreach (var part in new[] { first.Train, first.Validation, again.Train, again.Validation, other.Train, other.Validation })
        {
            part.Dispose();
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    public void Split_FractionOutsideZeroToOne_ThrowsArgumentOutOfRange(double fraction)
    {
        using var all = Imbalanced(out _);

        var act = () => all.Split(fraction, seed: 0);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("validationFraction");
    }

    [Fact]
    public void Split_FractionTooSmallForAnyClass_ThrowsNamingTheEmptyPart()
    {
        var (pixels, labels) = SyntheticDigits.Make(10, 1, 2);
        using var all = new DigitDataset(pixels, labels, 1, 2);

        var act = () => all.Split(0.1, seed: 0);

        act.Should().Throw<ArgumentException>().WithParameterName("validationFraction").WithMessage("*validation part empty*");
    }

    [Fact]
    public void Split_KeepsClassNamesAndNormalization()
    {
        var (pixels, labels) = SyntheticDigits.Make(40, 1, 2);
        var options = DigitDatasetOptions.FashionMnist with { Normalization = PixelNormalization.Mnist };
        using var all = new DigitDataset(pixels, labels, 1, 2, options);

        var (train, validation) = all.Split(0.5, seed: 1);

        using (train)
        using (validation)
        {
            validation.ClassNames.Should().Equal(all.ClassNames);
            train.Normalization.Should().Be(PixelNormalization.Mnist);
            validation.Count.Should().Be(20);
        }
    }
}
