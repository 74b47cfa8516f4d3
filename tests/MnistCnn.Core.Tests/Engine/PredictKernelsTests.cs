using MnistCnn.Core.Engine;

namespace MnistCnn.Core.Tests.Engine;

/// <summary>
/// Prediction's one-image kernels against <see cref="Gemm.Multiply"/> over the same operands, at every vector width
/// this machine accelerates: <see cref="PooledConvolution"/> against the product of its weight with the im2col matrix
/// in pooling-corner order (built here element by element from its definition), <see cref="PredictKernels.DenseRow"/>
/// against the product of one row with the weight. Both promise the same sums in the same order, so bit for bit.
/// </summary>
[Collection(VectorWidthState.Name)]
public sealed class PredictKernelsTests
{
    private static int[] Widths { get; } = [.. new[] { 512, 256, 128, 0 }.Where(w => w <= VectorWidth.HardwareBits)];

    [Theory]
    [InlineData(1, 28, 28, 5, 20)] // LeNet's first convolution
    [InlineData(20, 12, 12, 5, 50)] // LeNet's second
    [InlineData(3, 11, 11, 4, 7)] // odd input sides, an even kernel, channels that fill no tile
    [InlineData(2, 7, 7, 2, 3)] // a pooled plane of 9: declined by every vector width, run by the scalar one
    public void PooledConvolution_AnyShape_EqualsGemmOverPooledIm2ColBitForBit(int channels, int height, int width, int kernel, int outChannels)
    {
        var random = new Random(channels + height + kernel + outChannels);
        var depth = channels * kernel * kernel;
        var input = Values(random, channels * height * width);
        var weight = Values(random, outChannels * depth);
        var (outHeight, outWidth) = (height - kernel + 1, width - kernel + 1);
        var pooled = outHeight / 2 * (outWidth / 2);
        var positions = 4 * pooled;

        var columns = PooledIm2Col(input, channels, height, width, kernel);
        var expected = new float[outChannels * positions];
        Gemm.Multiply(outChannels, positions, depth, weight, depth, columns, positions, expected, positions, accumulate: false);

        var convolution = new PooledConvolution(weight, channels, height, width, kernel, outChannels);
        convolution.Pooled.Should().Be(pooled);
        var ran = 0;
        foreach (var bits in Widths)
        {
            using var limit = VectorWidth.Limit(bits);
            var shifted = new float[convolution.ShiftedFloats];
            var product = Enumerable.Repeat(float.NaN, convolution.ProductFloats).ToArray();
            if (!convolution.TryConvolve(input, shifted, product))
            {
                (pooled % Math.Max(1, bits / 32)).Should().NotBe(0, $"{bits} bits: only a pooled plane that fills no whole vectors is declined");
                product.Should().OnlyContain(x => float.IsNaN(x), "nothing is written when declined");
                continue;
            }

            ran++;
            product.AsSpan(0, outChannels * positions).ToArray().Should().Equal(expected, $"{bits} bits: the same sums in the same order");
            product.AsSpan(outChannels * positions).ToArray().All(x => x == 0f).Should().BeTrue("the padding channels' weights are zero");
        }

        ran.Should().BeGreaterThan(0, "at least the scalar width runs every shape");
    }

    [Fact]
    public void PooledConvolution_ShortScratch_ThrowsArgumentException()
    {
        var convolution = new PooledConvolution(new float[50 * 500], 20, 12, 12, 5, 50);
        var act = () => convolution.TryConvolve(new float[20 * 12 * 12], new float[convolution.ShiftedFloats - 1], new float[convolution.ProductFloats]);
        act.Should().Throw<ArgumentException>().WithMessage("*shifted planes*");
    }

    [Fact]
    public void PooledConvolution_OutputWithOddSides_ThrowsArgumentException()
    {
        var act = () => new PooledConvolution(new float[4 * 9], 1, 7, 7, 3, 4);
        act.Should().Throw<ArgumentException>().WithMessage("*no even output*");
    }

    [Theory]
    [InlineData(800, 512)] // LeNet's first linear layer, outputs padded to 512
    [InlineData(500, 64)] // its second
    [InlineData(37, 176)] // eight vectors of 16, then two and one of the narrower widths
    [InlineData(1, 16)]
    public void DenseRow_AnySize_EqualsGemmOfOneRowBitForBit(int k, int n)
    {
        var random = new Random(k + n);
        var stride = n + 16;
        var row = Values(random, k);
        for (var p = 0; p < k; p += 2)
        {
            // Zeros as a ReLU leaves them, of both signs, which the skipping must leave out without changing a bit.
            row[p] = random.Next(3) == 0 ? row[p] : (p % 4 == 0 ? 0f : -0f);
        }

        var weight = Values(random, k * stride);
        var expected = new float[n];
        Gemm.Multiply(1, n, k, row, k, weight, stride, expected, n, accumulate: false);
        foreach (var bits in Widths)
        {
            using var limit = VectorWidth.Limit(bits);
            foreach (var skipZeros in new[] { false, true })
            {
                var output = new float[n];
                PredictKernels.DenseRow(row, k, weight, stride, n, output, skipZeros);
                output.Should().Equal(expected, $"{bits} bits, skipping zeros {skipZeros}: the same sums in the same order");
            }
        }
    }

    [Fact]
    public void DenseRow_AllZeroRow_GivesPositiveZeros()
    {
        var output = Enumerable.Repeat(float.NaN, 64).ToArray();
        PredictKernels.DenseRow(new float[8], 8, Values(new Random(1), 8 * 64), 64, 64, output, skipZeros: true);
        output.Should().OnlyContain(x => x == 0f && !float.IsNegative(x), "a sum over no terms is +0, as Gemm's");
    }

    [Fact]
    public void DenseRow_OutputsNotWholeVectors_ThrowsArgumentException()
    {
        VectorWidth.HardwareBits.Should().BeGreaterThanOrEqualTo(128, "x64 and Arm64 accelerate 128-bit vectors");
        using var limit = VectorWidth.Limit(128);
        var act = () => PredictKernels.DenseRow(new float[4], 4, new float[4 * 64], 64, 6, new float[64], skipZeros: true);
        act.Should().Throw<ArgumentException>().WithMessage("*multiple*");
    }

    // Column (2 dy + dx) P + py Wp + px of row (c k + ky) k + kx holds input[c, 2 py + dy + ky, 2 px + dx + kx].
    private static float[] PooledIm2Col(float[] input, int channels, int height, int width, int kernel)
    {
        var (pooledHeight, pooledWidth) = ((height - kernel + 1) / 2, (width - kernel + 1) / 2);
        var pooled = pooledHeight * pooledWidth;
        var columns = new float[channels * kernel * kernel * 4 * pooled];
        for (var c = 0; c < channels; c++)
        {
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++)
                {
                    var r = (((c * kernel) + ky) * kernel) + kx;
                    for (var corner = 0; corner < 4; corner++)
                    {
                        for (var py = 0; py < pooledHeight; py++)
                        {
                            for (var px = 0; px < pooledWidth; px++)
                            {
                                var (y, x) = ((2 * py) + (corner >> 1) + ky, (2 * px) + (corner & 1) + kx);
                                columns[(r * 4 * pooled) + (corner * pooled) + (py * pooledWidth) + px] = input[(((c * height) + y) * width) + x];
                            }
                        }
                    }
                }
            }
        }

        return columns;
    }

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
