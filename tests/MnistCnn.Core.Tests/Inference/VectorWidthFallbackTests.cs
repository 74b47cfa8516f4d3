using System.Globalization;
using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Engine;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Engine;
using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Core.Tests.Inference;

/// <summary>
/// The classifier on the narrower vector paths a browser's WebAssembly runtime (128 bits) or a CPU without SIMD
/// (scalar) takes, run here by narrowing <see cref="VectorWidth"/>: the logits of the 10,000 MNIST test images
/// equal the widest path's to 1e-6.
/// </summary>
[Collection(VectorWidthState.Name)]
[Trait("Category", "RealData")]
public sealed class VectorWidthFallbackTests
{
    private const float Tolerance = 1e-6f;

    // The narrower widths: 256 bits (AVX2 CPUs), 128 (WebAssembly, Arm's NEON), scalar.
    private static readonly int[] NarrowerWidths = [256, 128, 0];

    private static readonly int[] EveryWidth = [512, 256, 128, 0];

    [Fact]
    public void LeNetLogits_NarrowerWidths_EqualTheWidestToOneMillionth()
    {
        // LeNet goes through the engine's generic layers, whose matrix products take every width.
        using var model = new LeNet(seed: 0);
        var classifier = DigitClassifier.FromModel(model);
        var images = RealMnistImages.Test;
        var widest = Logits(classifier, images);
        var lines = new List<string> { $"widest path: {VectorWidth.HardwareBits} bits; LeNet (seed 0), {images.Count} test images" };

        foreach (var bits in NarrowerWidths.Where(b => b < VectorWidth.HardwareBits))
        {
            float[] narrow;
            using (VectorWidth.Limit(bits))
            {
                narrow = Logits(classifier, images);
            }

            var largest = widest.Zip(narrow, (a, b) => Math.Abs(a - b)).Max();
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{(bits == 0 ? "scalar" : $"{bits} bits")}: largest logit difference {largest:E2}"));
            largest.Should().BeLessThanOrEqualTo(Tolerance, $"the {bits}-bit path must give the widest path's logits");
        }

        TestArtifacts.Write("inference-vector-widths.txt", lines);
    }

    [Fact]
    public void PretrainedLeNetPredictBatch_EveryWidth_EqualsPredictOneByOne()
    {
        // PredictBatch runs chunks of images through the dense layers together; each answer must be Predict's.
        var classifier = DigitClassifier.Pretrained();
        var images = RealMnistImages.Test;
        const int count = 1000;
        var pixels = images.Pixels.AsMemory(0, count * 784);
        foreach (var bits in EveryWidth.Where(b => b <= VectorWidth.HardwareBits))
        {
            using (VectorWidth.Limit(bits))
            {
                var single = Enumerable.Range(0, count).Select(i => classifier.Predict(RealMnistImages.Image(images, i))).ToArray();
                classifier.PredictBatch(pixels, count).Should().Equal(single, $"at {bits} bits");
                classifier.PredictBatch(pixels, count, maxDegreeOfParallelism: 1).Should().Equal(single, $"at {bits} bits, 1 thread");
            }
        }
    }

    private static float[] Logits(DigitClassifier classifier, IdxImages images)
    {
        var logits = new float[images.Count * 10];
        for (var i = 0; i < images.Count; i++)
        {
            classifier.ComputeLogits(RealMnistImages.Image(images, i), logits.AsSpan(i * 10, 10));
        }

        return logits;
    }
}
