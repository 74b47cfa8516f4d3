using System.Globalization;
using MnistCnn.Core.Inference;

namespace MnistCnn.Core.Tests.Inference;

/// <summary>
/// The "not likely a digit" flag: its bounds are those the training images give, it fires on at most 1%
/// of the test digits, and how often it fires on noise and blank images is reported.
/// </summary>
[Trait("Category", "RealData")]
public sealed class DigitLikenessTests
{
    private static readonly string Seed7 = Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch", "convnet-seed7.safetensors");

    [Fact]
    public void Calibrate_TrainingImages_GivesTheBoundsInTheCode()
    {
        var train = RealMnistImages.Train;

        var bounds = DigitLikeness.Calibrate(train.Pixels, train.Count);

        bounds.Should().Be((DigitLikeness.MinInk, DigitLikeness.MaxInk, DigitLikeness.MaxFrameShare));
    }

    [Fact]
    public void IsLikelyDigit_TestDigitsNoiseAndBlankImages_FiresRarelyOnDigitsAndOnEveryBlankImage()
    {
        var classifier = DigitClassifier.Load(Seed7);
        var train = RealMnistImages.Train;
        var test = RealMnistImages.Test;
        var random = new Random(7);
        const int noiseCount = 2000;
        var uniform = new byte[noiseCount * 784];
        random.NextBytes(uniform);
        var sparse = new byte[noiseCount * 784];
        for (var i = 0; i < sparse.Length; i++)
        {
            sparse[i] = random.NextDouble() < 0.1 ? (byte)random.Next(256) : (byte)0;
        }

        var gaussianBlur = new byte[noiseCount * 784];
        for (var i = 0; i < gaussianBlur.Length; i++)
        {
            // Faint noise everywhere, as a camera's dark background: pixels 0-40.
            gaussianBlur[i] = (byte)random.Next(0, 41);
        }

        var cases = new (string Name, byte[] Pixels, int Count)[]
        {
            ("MNIST training digits (calibration set)", train.Pixels, train.Count),
            ("MNIST test digits", test.Pixels, test.Count),
            ("uniform random noise (every pixel 0-255)", uniform, noiseCount),
            ("sparse random noise (10% of pixels 0-255, rest 0)", sparse, noiseCount),
            ("faint background noise (every pixel 0-40)", gaussianBlur, noiseCount),
            ("blank (all 0)", new byte[784], 1),
            ("all ink (all 255)", Enumerable.Repeat((byte)255, 784).ToArray(), 1),
        };
        var rates = new Dictionary<string, double>();
        var lines = new List<string>
        {
            "DigitPrediction.IsLikelyDigit == false (\"not likely a digit\"), bounds calibrated on the training set:",
            string.Create(CultureInfo.InvariantCulture, $"  ink in [{DigitLikeness.MinInk}, {DigitLikeness.MaxInk}], share of ink outside the central 20x20 box <= {DigitLikeness.MaxFrameShare}"),
        };
        foreach (var (name, pixels, count) in cases)
        {
            var flagged = classifier.PredictBatch(pixels, count).Count(p => !p.IsLikelyDigit);
            rates[name] = (double)flagged / count;
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {name}: fires on {flagged} of {count} ({100.0 * flagged / count:F2}%)"));
        }

        TestArtifacts.Write("inference-not-a-digit.txt", lines);
        rates["MNIST test digits"].Should().BeLessThanOrEqualTo(0.01);
        rates["MNIST training digits (calibration set)"].Should().BeLessThanOrEqualTo(0.01);
        rates["blank (all 0)"].Should().Be(1);
        rates["all ink (all 255)"].Should().Be(1);
        rates["uniform random noise (every pixel 0-255)"].Should().BeGreaterThanOrEqualTo(0.99);
    }
}
