using System.Globalization;
using MnistCnn.Core.Engine;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Tests.Inference;
using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Core.Tests.Engine;

/// <summary>
/// The generic layers' predictor (<see cref="LayerPredictor"/>: fused convolution, pool, bias and ReLU; dense layers
/// over several images at once) on real MNIST test images: an image's logits are the same bits alone and in a batch,
/// equal the reference pass (<see cref="LayerPasses.Logits"/>, the training path's layout) to float32 rounding (1e-5 relative, as PyTorch's), and
/// at every narrower vector width equal the widest's to 1e-6.
/// </summary>
[Collection(VectorWidthState.Name)]
[Trait("Category", "RealData")]
public sealed class LayerPredictorTests
{
    private const int Images = 600;

    private static readonly int[] NarrowerWidths = [256, 128, 0];

    public static TheoryData<string> Networks => new() { "LeNet", "SpeedrunNet" };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Logits_Batch_EqualsEachImageAloneBitForBit(string network)
    {
        var (weights, images) = PredictorFixtures.Setup(network, Images);
        var predictor = NetworkPasses.For(weights.Description).CreatePredictor(weights.View);
        predictor.Should().BeOfType<LayerPredictor>();

        var batch = new float[Images * 10];
        predictor.Logits(images, Images, batch);
        var alone = Alone(predictor, images);

        batch.Should().Equal(alone, $"{network}: an image's logits do not depend on the batch it is in");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Logits_AnyImage_EqualsTheReferencePassToFloat32Rounding(string network)
    {
        var (weights, images) = PredictorFixtures.Setup(network, Images);
        var passes = NetworkPasses.For(weights.Description);
        var batch = new float[Images * 10];
        passes.CreatePredictor(weights.View).Logits(images, Images, batch);
        var reference = new float[10];
        var largest = 0.0;
        for (var n = 0; n < Images; n++)
        {
            passes.Logits(weights.View, images.AsSpan(n * 784, 784), reference);
            for (var j = 0; j < 10; j++)
            {
                largest = Math.Max(largest, Math.Abs(batch[(n * 10) + j] - reference[j]) / Math.Max(1.0, Math.Abs(reference[j])));
            }
        }

        largest.Should().BeLessThanOrEqualTo(1e-5, $"{network}: the same arithmetic in another order (the tolerance against PyTorch)");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Logits_NarrowerWidths_EqualTheWidestToOneMillionthAndBatchEqualsAlone(string network)
    {
        var (weights, images) = PredictorFixtures.Setup(network, Images);
        var predictor = NetworkPasses.For(weights.Description).CreatePredictor(weights.View);
        var widest = new float[Images * 10];
        predictor.Logits(images, Images, widest);
        var lines = new List<string> { $"{network}: widest path {VectorWidth.HardwareBits} bits, {Images} test images" };
        foreach (var bits in NarrowerWidths.Where(b => b < VectorWidth.HardwareBits))
        {
            var narrow = new float[Images * 10];
            float[] alone;
            using (VectorWidth.Limit(bits))
            {
                predictor.Logits(images, Images, narrow);
                alone = Alone(predictor, images);
            }

            var largest = widest.Zip(narrow, (a, b) => Math.Abs(a - b)).Max();
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{(bits == 0 ? "scalar" : $"{bits} bits")}: largest logit difference {largest:E2}"));
            largest.Should().BeLessThanOrEqualTo(1e-6f, $"{network} at {bits} bits");
            narrow.Should().Equal(alone, $"{network} at {bits} bits: batch and single image agree bit for bit");
        }

        TestArtifacts.Write($"predictor-vector-widths-{network}.txt", lines);
    }

    private static float[] Alone(Predictor predictor, float[] images)
    {
        var alone = new float[Images * 10];
        for (var n = 0; n < Images; n++)
        {
            predictor.Logits(images.AsSpan(n * 784, 784), 1, alone.AsSpan(n * 10, 10));
        }

        return alone;
    }
}
