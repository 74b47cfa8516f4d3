using FluentAssertions;
using MnistCnn.Core.Engine;

namespace MnistCnn.Core.Tests.Engine;

/// <summary>
/// The vectorized elementwise kernels against the plain scalar rule they implement: the same outputs and
/// indices bit for bit, ties (the first maximum wins), NaN (a NaN wins) and signed zeros included.
/// </summary>
public sealed class KernelsTests
{
    [Theory]
    [InlineData(1, 24, 24)]
    [InlineData(3, 10, 10)]
    [InlineData(2, 8, 8)]
    [InlineData(2, 6, 14)]
    public void MaxPool_TiesAndNaN_MatchesTheScalarRule(int channels, int height, int width)
    {
        var input = SpecialValues(channels * height * width, seed: height + width);
        var outSize = channels * (height / 2) * (width / 2);
        var (output, indices) = (new float[outSize], new int[outSize]);

        Kernels.MaxPool(input, channels, height, width, output, indices);

        var o = 0;
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < height / 2; y++)
            {
                for (var x = 0; x < width / 2; x++, o++)
                {
                    var at = (((c * height) + (2 * y)) * width) + (2 * x);
                    var best = at;
                    foreach (var candidate in (int[])[at + 1, at + width, at + width + 1])
                    {
                        if (input[candidate] > input[best] || float.IsNaN(input[candidate]))
                        {
                            best = candidate;
                        }
                    }

                    indices[o].Should().Be(best, "window {0} picks its first maximum (or a NaN)", o);
                    BitConverter.SingleToInt32Bits(output[o]).Should().Be(BitConverter.SingleToInt32Bits(input[best]));
                }
            }
        }
    }

    [Fact]
    public void Activate_ReLU_KeepsPositivesAndNaNAndZeroesTheRest()
    {
        var values = SpecialValues(67, seed: 1);
        var expected = values.Select(x => x > 0f || float.IsNaN(x) ? x : 0f).ToArray();

        Kernels.Activate(LayerKind.ReLU, values);

        values.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void ActivationGradient_ReLU_PassesTheGradientWhereTheOutputIsPositive()
    {
        var outputs = SpecialValues(67, seed: 2);
        var gradient = SpecialValues(67, seed: 3);
        var expected = gradient.Select((g, i) => outputs[i] > 0f ? g : 0f).ToArray();

        Kernels.ActivationGradient(LayerKind.ReLU, outputs, gradient);

        gradient.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void AddPlaneBias_AddsEachPlanesBias()
    {
        var planes = SpecialValues(3 * 37, seed: 4).Select(v => float.IsNaN(v) ? 1f : v).ToArray();
        float[] bias = [0.5f, -2f, 3.25f];
        var expected = planes.Select((v, i) => v + bias[i / 37]).ToArray();

        Kernels.AddPlaneBias(planes, bias, 37);

        planes.Should().Equal(expected);
    }

    /// <summary>Small integers (many ties), both zeros and a few NaNs.</summary>
    private static float[] SpecialValues(int length, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => random.Next(12) switch
        {
            0 => float.NaN,
            1 => -0f,
            2 => 0f,
            var n => n - 6f,
        })];
    }
}
