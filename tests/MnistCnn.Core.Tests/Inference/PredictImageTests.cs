using System.Globalization;
using MnistCnn.Core.Inference;

namespace MnistCnn.Core.Tests.Inference;

/// <summary>
/// <see cref="DigitClassifier.PredictImage"/>: pictures of any size through <see cref="DigitImage"/> into the
/// classifier. The classifier is <see cref="BrieflyTrainedModel"/>'s, a working one, so that answers mean
/// something; the pictures are real MNIST test digits redrawn as photos of paper would show them.
/// </summary>
[Collection(TorchGlobalState.Name)]
[Trait("Category", "RealData")]
public sealed class PredictImageTests
{
    private const int Count = 500;

    private static readonly Lazy<DigitClassifier> Classifier = new(() => DigitClassifier.FromModel(BrieflyTrainedModel.Value));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PredictImage_RealDigitsRedrawnOnPaper_MostlyGetTheAnswersOfTheirOwnBytes(bool lightOnDark)
    {
        var classifier = Classifier.Value;
        var images = RealMnistImages.Test;
        var (agree, correctOriginal, correctPaper) = (0, 0, 0);
        for (var i = 0; i < Count; i++)
        {
            var original = RealMnistImages.Image(images, i);
            var (paper, ink) = lightOnDark ? ((byte)20, (byte)235) : ((byte)238, (byte)32);
            var picture = PaperDigits.Draw(original, 4, 172, 132, 40, 5, paper, ink);

            var fromPicture = classifier.PredictImage(picture, 172, 132);

            var fromBytes = classifier.Predict(original);
            agree += fromPicture.Digit == fromBytes.Digit ? 1 : 0;
            correctOriginal += fromBytes.Digit == RealMnistImages.TestLabelBytes[i] ? 1 : 0;
            correctPaper += fromPicture.Digit == RealMnistImages.TestLabelBytes[i] ? 1 : 0;
        }

        TestArtifacts.Write($"predict-image-paper-{(lightOnDark ? "light-on-dark" : "dark-on-light")}.txt", [string.Create(CultureInfo.InvariantCulture,
            $"{Count} MNIST test digits redrawn 4x {(lightOnDark ? "light on dark" : "dark on light")}, off-centre, through PredictImage: {agree} got the answer of their own bytes; correct: {correctPaper} from the pictures, {correctOriginal} from the bytes (a model after one epoch)")]);
        agree.Should().BeGreaterThanOrEqualTo(Count * 85 / 100, "the prediction sample's paper-style check asks 85 of 100");
    }

    [Fact]
    public void PredictImage_RealTestDigit_IsPredictOfItsBytes()
    {
        var classifier = Classifier.Value;
        for (var i = 0; i < 50; i++)
        {
            var digit = RealMnistImages.Image(RealMnistImages.Test, i);

            classifier.PredictImage(digit, 28, 28).Should().Be(classifier.Predict(digit));
        }
    }

    [Theory]
    [InlineData('1')]
    [InlineData('7')]
    [InlineData('0')]
    public void PredictImage_DrawnDigit_IsPredictOfToMnist(char digit)
    {
        var classifier = Classifier.Value;
        var picture = StrokeDigits.Draw(digit, 150, 130, 40, 12, 60, 100, 10);

        var prediction = classifier.PredictImage(picture, 150, 130);

        prediction.Should().Be(classifier.Predict(DigitImage.ToMnist(picture, 150, 130)));
        prediction.IsLikelyDigit.Should().BeTrue();
    }

    [Theory]
    [InlineData(255, 0)]
    [InlineData(0, 0)]
    [InlineData(140, 16)]
    public void PredictImage_BlankPicture_IsNotLikelyADigit(byte level, int noise)
    {
        var random = new Random(2);
        var picture = Enumerable.Range(0, 320 * 240).Select(_ => (byte)(level + random.Next(-noise / 2, (noise / 2) + 1))).ToArray();

        var prediction = Classifier.Value.PredictImage(picture, 320, 240);

        prediction.IsLikelyDigit.Should().BeFalse();
        prediction.Probabilities.Sum().Should().BeApproximately(1, 1e-4f);
    }

    [Fact]
    public void PredictImage_BadArguments_ThrowStandardExceptionsNamingThem()
    {
        var classifier = Classifier.Value;
        var pixels = new byte[100];

        FluentActions.Invoking(() => classifier.PredictImage(pixels, 0, 100)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("width");
        FluentActions.Invoking(() => classifier.PredictImage(pixels, 10, -10)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("height");
        FluentActions.Invoking(() => classifier.PredictImage(pixels, 10, 10, 5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("stride");
        FluentActions.Invoking(() => classifier.PredictImage(pixels, 10, 11)).Should().Throw<ArgumentException>().WithParameterName("gray");
        FluentActions.Invoking(() => classifier.PredictImage(null, 10, 10)).Should().Throw<ArgumentException>().WithParameterName("gray");
    }
}
