using System.Globalization;
using MnistCnn.Core.Engine;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Tests.Inference;
using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Core.Tests.Engine;

/// <summary>
/// The generic layers' predictor for the WebAssembly interpreter (<see cref="InterpretedLayerPredictor"/>), run here
/// under the JIT: on real MNIST test images its logits equal the widest <see cref="LayerPredictor"/>'s to 1e-6 for
/// freshly initialised networks, and for the trained LeNet (logits up to tens, where one rounding is about 2e-6) give
/// the same digits and probabilities to 1e-6 with logits equal to float32 rounding (1e-5 relative): its multiply-adds
/// round twice, as WebAssembly's must, where the JIT's round once. It is what the generic layers make where the
/// vector width is 128 bits.
/// </summary>
[Collection(VectorWidthState.Name)]
[Trait("Category", "RealData")]
public sealed class InterpretedLayerPredictorTests
{
    private const int Images = 1000;

    public static TheoryData<string> Networks => new() { "LeNet", "LeNet seed 0", "SpeedrunNet" };

    [Fact]
    public void CreatePredictor_128Bits_MakesTheInterpretedPredictor()
    {
        var weights = DigitClassifier.Pretrained(PretrainedModel.Best).Weights;
        using (VectorWidth.Limit(128))
        {
            NetworkPasses.For(weights.Description).CreatePredictor(weights.View).Should().BeOfType<InterpretedLayerPredictor>();
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Logits_RealTestImages_EqualTheWidestLayerPredictorsToOneMillionth(string network)
    {
        var (weights, images) = PredictorFixtures.Setup(network, Images);
        var widest = new float[Images * 10];
        new LayerPredictor(weights.Description, weights.View).Logits(images, Images, widest);
        var interpreted = new float[Images * 10];
        new InterpretedLayerPredictor(weights.Description, weights.View).Logits(images, Images, interpreted);

        var largest = 0.0;
        var largestAbsolute = 0.0;
        for (var i = 0; i < widest.Length; i++)
        {
            var difference = Math.Abs(widest[i] - interpreted[i]);
            largestAbsolute = Math.Max(largestAbsolute, difference);
            largest = Math.Max(largest, difference / Math.Max(1.0, Math.Abs(widest[i])));
        }

        TestArtifacts.Write($"interpreted-predictor-{network.Replace(' ', '-')}.txt", [string.Create(CultureInfo.InvariantCulture,
            $"{network}: interpreter-shaped 128-bit predictor against the {VectorWidth.HardwareBits}-bit LayerPredictor, {Images} test images: largest logit difference {largestAbsolute:E2} (relative above 1: {largest:E2})")]);
        interpreted.Should().NotContain(float.NaN);
        if (network != "LeNet")
        {
            largestAbsolute.Should().BeLessThanOrEqualTo(1e-6, network);
            return;
        }

        largest.Should().BeLessThanOrEqualTo(1e-5, "the trained LeNet's logits differ by float32 rounding only");
        for (var n = 0; n < Images; n++)
        {
            var expected = Softmax(widest.AsSpan(n * 10, 10));
            var actual = Softmax(interpreted.AsSpan(n * 10, 10));
            Array.IndexOf(actual, actual.Max()).Should().Be(Array.IndexOf(expected, expected.Max()), $"image {n}'s digit");
            for (var j = 0; j < 10; j++)
            {
                actual[j].Should().BeApproximately(expected[j], 1e-6, $"image {n}'s probability of {j}");
            }
        }
    }

    private static double[] Softmax(ReadOnlySpan<float> logits)
    {
        var max = double.NegativeInfinity;
        foreach (var z in logits)
        {
            max = Math.Max(max, z);
        }

        var exp = new double[logits.Length];
        for (var j = 0; j < logits.Length; j++)
        {
            exp[j] = Math.Exp(logits[j] - max);
        }

        var sum = exp.Sum();
        return [.. exp.Select(e => e / sum)];
    }
}
