using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MnistCnn.Core.Engine;
using MnistCnn.Core.Tests.Inference;
using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Core.Tests.Engine;

/// <summary>
/// The case study's hand kernels on the narrower paths a browser's WebAssembly runtime (128 bits) or a runtime without
/// SIMD (scalar) takes, run here by narrowing <see cref="VectorWidth"/>: on real MNIST images their logits, loss and
/// gradients equal the 256-bit kernels' (the widest this network has) to 1e-6. The sigmoid pass, which takes 512 bits where
/// AVX-512 is accelerated, gives the same bits at 256.
/// </summary>
[Collection(VectorWidthState.Name)]
[Trait("Category", "RealData")]
public sealed class CaseStudyWidthTests
{
    private const float Tolerance = 1e-6f;
    private const int Batch = 64;

    private static readonly int[] NarrowerWidths = [128, 0];

    private readonly float[] _parameters;
    private readonly ParameterView _view;

    public CaseStudyWidthTests()
    {
        // PyTorch's default initialisation's range, U(-1/sqrt(fan in), 1/sqrt(fan in)), from a fixed seed.
        var description = NetworkDescription.ConvNet;
        _parameters = GC.AllocateArray<float>(description.ParameterCount, pinned: true);
        var random = new Random(7);
        int[] fanIn = [9, 9, 27, 27, CaseStudyForward.Features, CaseStudyForward.Features];
        for (var p = 0; p < description.Parameters.Count; p++)
        {
            var parameter = description.Parameters[p];
            var bound = 1 / MathF.Sqrt(fanIn[p]);
            for (var i = 0; i < parameter.Length; i++)
            {
                _parameters[parameter.Offset + i] = ((2 * random.NextSingle()) - 1) * bound;
            }
        }

        _view = View(_parameters);
    }

    [Fact]
    public void Sum8_RandomLanes_AddsInVector256SumsOrder()
    {
        // The narrower kernels reproduce the 256-bit kernels' lane sums with Sum8; it must add as Vector256.Sum does.
        var random = new Random(3);
        var lanes = new float[8];
        for (var trial = 0; trial < 10_000; trial++)
        {
            for (var i = 0; i < 8; i++)
            {
                lanes[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 6)));
            }

            var expected = Vector256.Sum(Vector256.Create(lanes));
            CaseStudyLanes.Sum8(lanes).Should().Be(expected, "lanes {0}", string.Join(' ', lanes));
        }
    }

    [Fact]
    public void Logits_NarrowerWidths_EqualThe256BitKernelsToOneMillionth()
    {
        var passes = new CaseStudyPasses(NetworkDescription.ConvNet);
        var images = PreparedImages(RealMnistImages.Test.Pixels, RealMnistImages.Test.Count);
        var count = RealMnistImages.Test.Count;
        var widest = Logits(passes, images, count);
        var lines = new List<string> { $"widest path: {VectorWidth.HardwareBits} bits (case study kernels: 256); case study, random weights (seed 7), {count} test images" };
        foreach (var bits in NarrowerWidths.Where(b => b < VectorWidth.HardwareBits))
        {
            float[] narrow;
            using (VectorWidth.Limit(bits))
            {
                narrow = Logits(passes, images, count);
            }

            var largest = LargestDifference(widest, narrow);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{Name(bits)}: largest logit difference {largest:E2}"));
            largest.Should().BeLessThanOrEqualTo(Tolerance, $"the {Name(bits)} path must give the 256-bit kernels' logits");
        }

        TestArtifacts.Write("case-study-vector-widths-logits.txt", lines);
    }

    [Fact]
    public void InterpretedLogits_RealTestImages_EqualThe256BitKernelsToOneMillionth()
    {
        // The browser's path, called directly, against the 256-bit kernels (or, on a machine without them, the scalar code).
        var passes = new CaseStudyPasses(NetworkDescription.ConvNet);
        var referenceBits = VectorWidth.HardwareBits >= 256 ? 512 : 0;
        var images = PreparedImages(RealMnistImages.Test.Pixels, RealMnistImages.Test.Count);
        var count = RealMnistImages.Test.Count;
        float[] reference;
        using (VectorWidth.Limit(referenceBits))
        {
            reference = Logits(passes, images, count);
        }

        var interpreted = new float[count * 10];
        for (var i = 0; i < count; i++)
        {
            CaseStudyInterpreted.Logits(
                images.AsSpan(i * 784, 784), _view[0], _view[1], _view[2], _view[3], _view[4], _view[5], interpreted.AsSpan(i * 10, 10));
        }

        var largest = LargestDifference(reference, interpreted);
        TestArtifacts.Write("case-study-interpreted-logits.txt", [string.Create(CultureInfo.InvariantCulture,
            $"interpreter-shaped 128-bit path against the {(referenceBits == 0 ? "scalar" : "256-bit")} kernels, {count} test images: largest logit difference {largest:E2}")]);
        largest.Should().BeLessThanOrEqualTo(Tolerance);
        interpreted.Should().NotContain(float.NaN);
    }

    [Fact]
    public void GradientStep_NarrowerWidths_EqualThe256BitKernelsToOneMillionth()
    {
        var passes = new CaseStudyPasses(NetworkDescription.ConvNet);
        var (images, labels) = FirstTrainingBatch();

        var (widestLoss, widest) = Gradients(passes, images, labels);
        var lines = new List<string> { $"widest path: {VectorWidth.HardwareBits} bits (case study kernels: 256); case study, random weights (seed 7), the first {Batch} training images" };
        foreach (var bits in NarrowerWidths.Where(b => b < VectorWidth.HardwareBits))
        {
            double loss;
            float[] narrow;
            using (VectorWidth.Limit(bits))
            {
                (loss, narrow) = Gradients(passes, images, labels);
            }

            var largest = LargestDifference(widest, narrow);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{Name(bits)}: loss difference {Math.Abs(loss - widestLoss):E2}, largest gradient difference {largest:E2}"));
            loss.Should().BeApproximately(widestLoss, Tolerance);
            largest.Should().BeLessThanOrEqualTo(Tolerance, $"the {Name(bits)} path must give the 256-bit kernels' gradients");
        }

        TestArtifacts.Write("case-study-vector-widths-gradients.txt", lines);
    }

    [Fact]
    public void GradientStepAndLogits_SigmoidsAt256Bits_SameBitsAsAt512()
    {
        // The kernels' sums are 256 bits wide at both widths; only the sigmoid pass takes 512-bit vectors where AVX-512 is
        // accelerated, with the same operations per lane, so every logit and gradient must be the same float.
        var passes = new CaseStudyPasses(NetworkDescription.ConvNet);
        var (images, labels) = FirstTrainingBatch();

        var (wideLoss, wide) = Gradients(passes, images, labels);
        var wideLogits = Logits(passes, images, Batch);
        double loss;
        float[] gradients, logits;
        using (VectorWidth.Limit(256))
        {
            (loss, gradients) = Gradients(passes, images, labels);
            logits = Logits(passes, images, Batch);
        }

        loss.Should().Be(wideLoss);
        gradients.Should().Equal(wide);
        logits.Should().Equal(wideLogits);
    }

    // The first Batch training images, prepared, with their labels (both on the pinned heap).
    private static (float[] Images, long[] Labels) FirstTrainingBatch()
    {
        var labels = GC.AllocateArray<long>(Batch, pinned: true);
        for (var i = 0; i < Batch; i++)
        {
            labels[i] = RealMnistImages.TrainLabelBytes[i];
        }

        return (PreparedImages(RealMnistImages.Train.Pixels, Batch), labels);
    }

    private static string Name(int bits) => bits == 0 ? "scalar" : $"{bits} bits";

    private static float LargestDifference(float[] expected, float[] actual)
    {
        actual.Should().HaveSameCount(expected);
        var largest = 0f;
        for (var i = 0; i < expected.Length; i++)
        {
            largest = MathF.Max(largest, MathF.Abs(expected[i] - actual[i]));
            float.IsNaN(actual[i]).Should().Be(float.IsNaN(expected[i]));
        }

        return largest;
    }

    // The pixels as the network reads them (on the pinned heap): scaled to [0, 1], then normalised with MNIST's mean and deviation.
    private static float[] PreparedImages(byte[] pixels, int count)
    {
        var images = GC.AllocateArray<float>(count * 784, pinned: true);
        for (var i = 0; i < images.Length; i++)
        {
            images[i] = ((pixels[i] / 255f) - 0.1307f) / 0.3081f;
        }

        return images;
    }

    private static ParameterView View(float[] pinned)
    {
        var description = NetworkDescription.ConvNet;
        return new ParameterView(description, description.Parameters.Select(p => Marshal.UnsafeAddrOfPinnedArrayElement(pinned, p.Offset)).ToArray());
    }

    private float[] Logits(CaseStudyPasses passes, float[] images, int count)
    {
        var logits = new float[count * 10];
        for (var i = 0; i < count; i++)
        {
            passes.Logits(_view, images.AsSpan(i * 784, 784), logits.AsSpan(i * 10, 10));
        }

        return logits;
    }

    private (double Loss, float[] Gradients) Gradients(CaseStudyPasses passes, float[] images, long[] labels)
    {
        var gradients = GC.AllocateArray<float>(_parameters.Length, pinned: true);
        // Both arrays are on the pinned heap, so their addresses hold.
        var loss = passes.CreateGradientStep().Run(
            _view, View(gradients), Marshal.UnsafeAddrOfPinnedArrayElement(images, 0), Marshal.UnsafeAddrOfPinnedArrayElement(labels, 0), labels.Length, threads: 2, labelSmoothing: 0);
        return (loss, gradients);
    }
}
