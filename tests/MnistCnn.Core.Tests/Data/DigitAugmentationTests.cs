using MnistCnn.Core.Data;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Data;

public sealed class DigitAugmentationTests
{
    private static readonly DigitAugmentation Identity = new() { MaxShift = 0, MaxRotationDegrees = 0, MinScale = 1, MaxScale = 1 };

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new DigitAugmentation();

        (options.MaxShift, options.MaxRotationDegrees, options.MinScale, options.MaxScale).Should().Be((2.0, 10.0, 0.9, 1.1));
        (options.ElasticAlpha, options.ElasticSigma).Should().Be((0.0, 4.0), "elastic distortion is off by default");
        new DigitDataLoaderOptions().Augmentation.Should().BeNull("augmentation is off by default");
    }

    [Theory]
    [InlineData(nameof(DigitAugmentation.MaxShift), -1)]
    [InlineData(nameof(DigitAugmentation.MaxShift), double.NaN)]
    [InlineData(nameof(DigitAugmentation.MaxShift), double.PositiveInfinity)]
    [InlineData(nameof(DigitAugmentation.MaxRotationDegrees), -0.5)]
    [InlineData(nameof(DigitAugmentation.MaxRotationDegrees), 181)]
    [InlineData(nameof(DigitAugmentation.MaxRotationDegrees), double.NaN)]
    [InlineData(nameof(DigitAugmentation.MinScale), 0)]
    [InlineData(nameof(DigitAugmentation.MinScale), -0.1)]
    [InlineData(nameof(DigitAugmentation.MaxScale), 0)]
    [InlineData(nameof(DigitAugmentation.MaxScale), double.NegativeInfinity)]
    [InlineData(nameof(DigitAugmentation.ElasticAlpha), -1)]
    [InlineData(nameof(DigitAugmentation.ElasticAlpha), double.NaN)]
    [InlineData(nameof(DigitAugmentation.ElasticSigma), 0)]
    [InlineData(nameof(DigitAugmentation.ElasticSigma), double.PositiveInfinity)]
    public void Setters_InvalidValue_ThrowNamingTheProperty(string property, double value)
    {
        Action act = property switch
        {
            nameof(DigitAugmentation.MaxShift) => () => _ = new DigitAugmentation { MaxShift = value },
            nameof(DigitAugmentation.MaxRotationDegrees) => () => _ = new DigitAugmentation { MaxRotationDegrees = value },
            nameof(DigitAugmentation.MinScale) => () => _ = new DigitAugmentation { MinScale = value },
            nameof(DigitAugmentation.ElasticAlpha) => () => _ = new DigitAugmentation { ElasticAlpha = value },
            nameof(DigitAugmentation.ElasticSigma) => () => _ = new DigitAugmentation { ElasticSigma = value },
            _ => () => _ = new DigitAugmentation { MaxScale = value },
        };

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(property);
    }

    [Fact]
    public void Loader_MinScaleAboveMaxScale_ThrowsNamingBoth()
    {
        using var dataset = SyntheticDigits.Dataset(4);
        var options = new DigitDataLoaderOptions { Augmentation = new DigitAugmentation { MinScale = 1.2, MaxScale = 1.1 } };

        var act = () => new DigitDataLoader(dataset, options);

        act.Should().Throw<ArgumentException>().WithMessage("*MinScale (1.2)*MaxScale (1.1)*").Which.ParamName.Should().Be("options");
    }

    [Fact]
    public void Loader_ScaleRangeSetInEitherOrder_IsAccepted()
    {
        using var dataset = SyntheticDigits.Dataset(4);

        var act = () => new DigitDataLoader(dataset, new DigitDataLoaderOptions { Augmentation = new DigitAugmentation { MinScale = 1.2, MaxScale = 1.3 } });

        act.Should().NotThrow();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GetBatches_SameSeedAndEpoch_AreIdenticalBitForBit(bool shuffle)
    {
        using var dataset = SyntheticDigits.Dataset(50);
        var options = new DigitDataLoaderOptions { BatchSize = 16, Shuffle = shuffle, Augmentation = new DigitAugmentation() };

        var first = Pixels(new DigitDataLoader(dataset, options).GetBatches(3, seed: 9));
        var second = Pixels(new DigitDataLoader(dataset, options).GetBatches(3, seed: 9));

        second.Should().Equal(first);
        first.Should().NotEqual(Pixels(new DigitDataLoader(dataset, options with { Augmentation = null }).GetBatches(3, seed: 9)), "the images are transformed");
    }

    [Fact]
    public void GetBatches_OtherEpochOrSeed_TransformsDifferently()
    {
        using var dataset = SyntheticDigits.Dataset(20);
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 20, Augmentation = new DigitAugmentation() });

        var reference = Pixels(loader.GetBatches(1, seed: 4));

        Pixels(loader.GetBatches(2, seed: 4)).Should().NotEqual(reference);
        Pixels(loader.GetBatches(1, seed: 5)).Should().NotEqual(reference);
        BatchAugmentation.Draw(new DigitAugmentation(), 4, 1, 0).Should().NotBe(BatchAugmentation.Draw(new DigitAugmentation(), 4, 2, 0));
        BatchAugmentation.Draw(new DigitAugmentation(), 4, 1, 0).Should().NotBe(BatchAugmentation.Draw(new DigitAugmentation(), 5, 1, 0));
        BatchAugmentation.Draw(new DigitAugmentation(), 4, 1, 0).Should().NotBe(BatchAugmentation.Draw(new DigitAugmentation(), 4, 1, 1));
    }

    [Fact]
    public void GetBatches_ImageTransform_DependsOnlyOnSeedEpochAndImageNotOnBatching()
    {
        using var dataset = SyntheticDigits.Dataset(30);
        var augmentation = new DigitAugmentation();
        var byFour = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 4, Augmentation = augmentation });
        var bySeven = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 7, Augmentation = augmentation });
        var shuffled = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 5, Shuffle = true, Augmentation = augmentation });

        var inOrder = Pixels(byFour.GetBatches(2, seed: 8));
        Pixels(bySeven.GetBatches(2, seed: 8)).Should().Equal(inOrder);

        // The shuffled epoch holds the same transformed images, in the epoch's order.
        var order = shuffled.GetOrder(2, seed: 8);
        var pixelsPerImage = 28 * 28;
        var expected = order.SelectMany(i => inOrder.Skip((int)i * pixelsPerImage).Take(pixelsPerImage)).ToArray();
        Pixels(shuffled.GetBatches(2, seed: 8)).Should().Equal(expected);
    }

    [Fact]
    public void GetBatches_OffByDefault_AreTheDatasetsBatchesExactly()
    {
        using var dataset = SyntheticDigits.Dataset(25);
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 10 });

        using var all = dataset.GetBatch(0, 25);

        Pixels(loader.GetBatches(4, seed: 3)).Should().Equal(all.Images.data<float>().ToArray());
    }

    [Theory]
    [InlineData(28, 28)]
    [InlineData(20, 12)]
    public void GetBatches_IdentityParameters_LeaveTheImagesUnchanged(int height, int width)
    {
        using var dataset = SyntheticDigits.Dataset(12, height, width);
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 5, Shuffle = true, Augmentation = Identity });
        var plain = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 5, Shuffle = true });

        var augmented = Pixels(loader.GetBatches(1, seed: 2));
        var original = Pixels(plain.GetBatches(1, seed: 2));

        augmented.Should().HaveCount(original.Length);
        augmented.Zip(original, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-6f);
    }

    [Theory]
    [InlineData(28, 28)]
    [InlineData(24, 32)]
    public void GetBatches_ShiftOnly_MovesASinglePixelsMassByTheDrawnShift(int height, int width)
    {
        const int Count = 16;
        var (row, column) = (height / 2, width / 2);
        var pixels = new byte[Count * height * width];
        for (var i = 0; i < Count; i++)
        {
            pixels[(i * height * width) + (row * width) + column] = 255;
        }

        using var dataset = new DigitDataset(pixels, new byte[Count], height, width);
        var augmentation = new DigitAugmentation { MaxShift = 3, MaxRotationDegrees = 0, MinScale = 1, MaxScale = 1 };
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = Count, Augmentation = augmentation });

        var images = Pixels(loader.GetBatches(6, seed: 21));

        for (var i = 0; i < Count; i++)
        {
            var draw = BatchAugmentation.Draw(augmentation, 21, 6, i);
            var (mass, x, y) = (0.0, 0.0, 0.0);
            for (var k = 0; k < height * width; k++)
            {
                var value = images[(i * height * width) + k];
                mass += value;
                x += value * (k % width);
                y += value * (k / width);
            }

            mass.Should().BeApproximately(1, 1e-5, $"image {i} keeps its whole pixel");
            (x / mass).Should().BeApproximately(column + draw.ShiftX, 1e-4, $"image {i} moves by its drawn horizontal shift {draw.ShiftX}");
            (y / mass).Should().BeApproximately(row + draw.ShiftY, 1e-4, $"image {i} moves by its drawn vertical shift {draw.ShiftY}");
        }

        var shifts = Enumerable.Range(0, Count).Select(i => BatchAugmentation.Draw(augmentation, 21, 6, i)).ToArray();
        shifts.Should().OnlyContain(d => Math.Abs(d.ShiftX) <= 3 && Math.Abs(d.ShiftY) <= 3 && d.RotationDegrees == 0 && d.Scale == 1);
        shifts.Select(d => Math.Abs(d.ShiftX)).Max().Should().BeGreaterThan(1, "sixteen draws from [-3, 3] spread out");
    }

    [Fact]
    public void Draw_ManyImages_StayInsideTheRangesAndCoverThem()
    {
        var augmentation = new DigitAugmentation { MaxShift = 2, MaxRotationDegrees = 15, MinScale = 0.8, MaxScale = 1.2 };

        var draws = Enumerable.Range(0, 2000).Select(i => BatchAugmentation.Draw(augmentation, 1, 0, i)).ToArray();

        draws.Should().OnlyContain(d => Math.Abs(d.ShiftX) <= 2 && Math.Abs(d.ShiftY) <= 2 && Math.Abs(d.RotationDegrees) <= 15 && d.Scale >= 0.8 && d.Scale <= 1.2);
        draws.Average(d => d.ShiftX).Should().BeApproximately(0, 0.15);
        draws.Average(d => d.RotationDegrees).Should().BeApproximately(0, 1);
        draws.Average(d => d.Scale).Should().BeApproximately(1, 0.02);
        draws.Max(d => d.RotationDegrees).Should().BeGreaterThan(14);
        draws.Min(d => d.Scale).Should().BeLessThan(0.81);
    }

    [Fact]
    public void GetBatches_WithNormalization_EqualsNormalisingTheAugmentedScaledPixels()
    {
        using var plain = SyntheticDigits.Dataset(10);
        using var normalised = SyntheticDigits.Dataset(10, options: new DigitDatasetOptions { Normalization = PixelNormalization.Mnist });
        var options = new DigitDataLoaderOptions { BatchSize = 10, Augmentation = new DigitAugmentation { MaxShift = 3 } };

        var scaled = Pixels(new DigitDataLoader(plain, options).GetBatches(0, seed: 1));
        var result = Pixels(new DigitDataLoader(normalised, options).GetBatches(0, seed: 1));

        var expected = scaled.Select(p => (p - 0.1307f) / 0.3081f).ToArray();
        result.Zip(expected, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-5f);
        expected.Min().Should().BeApproximately(-0.1307f / 0.3081f, 1e-6f, "pixels shifted in from outside are background");
    }

    [Fact]
    public void GetBatches_Elastic_IsDeterministicAndAddsToTheAffineTransform()
    {
        using var dataset = SyntheticDigits.Dataset(20);
        var affine = new DigitAugmentation();
        var elastic = affine with { ElasticAlpha = 34 };
        DigitDataLoader Loader(DigitAugmentation augmentation) => new(dataset, new DigitDataLoaderOptions { BatchSize = 8, Shuffle = true, Augmentation = augmentation });

        var first = Pixels(Loader(elastic).GetBatches(1, seed: 3));

        Pixels(Loader(elastic).GetBatches(1, seed: 3)).Should().Equal(first);
        first.Should().NotEqual(Pixels(Loader(affine).GetBatches(1, seed: 3)));
        first.Should().NotEqual(Pixels(Loader(elastic).GetBatches(2, seed: 3)));
    }

    [Fact]
    public void GetBatches_ElasticOnly_MovesEachPixelByTheSmoothedDrawnField()
    {
        // A horizontal ramp, pixel = 9x / 255: bilinear sampling at x + dx returns 9(x + dx) / 255 exactly, so the
        // output gives back each interior pixel's horizontal displacement.
        const int Count = 3, Size = 28;
        const double Alpha = 10, Sigma = 3;
        var pixels = new byte[Count * Size * Size];
        for (var k = 0; k < pixels.Length; k++)
        {
            pixels[k] = (byte)(9 * (k % Size));
        }

        using var dataset = new DigitDataset(pixels, new byte[Count], Size, Size);
        var augmentation = Identity with { ElasticAlpha = Alpha, ElasticSigma = Sigma };
        var images = Pixels(new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = Count, Augmentation = augmentation }).GetBatches(4, seed: 6));

        var largest = 0.0;
        for (var i = 0; i < Count; i++)
        {
            var field = new double[2 * Size * Size];
            BatchAugmentation.DrawElasticField(6, 4, i, field);
            field.Should().OnlyContain(v => v >= -1 && v <= 1);
            var dx = Smooth(field.AsSpan(0, Size * Size).ToArray(), Size, Sigma);
            var dy = Smooth(field.AsSpan(Size * Size, Size * Size).ToArray(), Size, Sigma);
            for (var y = 4; y < Size - 4; y++)
            {
                for (var x = 4; x < Size - 4; x++)
                {
                    var k = (y * Size) + x;
                    (Alpha * Math.Abs(dy[k])).Should().BeLessThan(4, "the sample stays inside the image");
                    var measured = (images[(i * Size * Size) + k] * 255.0 / 9) - x;
                    measured.Should().BeApproximately(Alpha * dx[k], 1e-4, $"image {i}, pixel ({x}, {y})");
                    largest = Math.Max(largest, Math.Abs(measured));
                }
            }
        }

        largest.Should().BeGreaterThan(0.1, "the field moves pixels");
    }

    // The test's own separable Gaussian (normalised, radius ceil(3 sigma), zeros beyond the edges).
    private static double[] Smooth(double[] plane, int size, double sigma)
    {
        var radius = (int)Math.Ceiling(3 * sigma);
        var weights = Enumerable.Range(-radius, (2 * radius) + 1).Select(d => Math.Exp(-(d * d) / (2 * sigma * sigma))).ToArray();
        var sum = weights.Sum();
        double[] Pass(double[] input, bool alongX)
        {
            var output = new double[input.Length];
            for (var y = 0; y < size; y++)
            {
                for (var x = 0; x < size; x++)
                {
                    var total = 0.0;
                    for (var d = -radius; d <= radius; d++)
                    {
                        var (sx, sy) = alongX ? (x + d, y) : (x, y + d);
                        if (sx >= 0 && sx < size && sy >= 0 && sy < size)
                        {
                            total += weights[d + radius] / sum * input[(sy * size) + sx];
                        }
                    }

                    output[(y * size) + x] = total;
                }
            }

            return output;
        }

        return Pass(Pass(plane, alongX: true), alongX: false);
    }

    private static float[] Pixels(IEnumerable<DigitBatch> batches)
    {
        var values = new List<float>();
        foreach (var batch in batches)
        {
            using (batch)
            {
                batch.Images.dtype.Should().Be(ScalarType.Float32);
                values.AddRange(batch.Images.data<float>().ToArray());
            }
        }

        return values.ToArray();
    }
}
