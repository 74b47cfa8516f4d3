using System.Globalization;
using MnistCnn.Core.Data;
using MnistCnn.Core.Inference;

namespace MnistCnn.Core.Tests.Inference;

/// <summary>
/// <see cref="DigitImage"/> on the real MNIST test digits: drawn again as paper-style pictures (dark on light,
/// enlarged, off-centre), preparation must give back nearly the digit MNIST has.
/// </summary>
[Trait("Category", "RealData")]
public sealed class RealDigitImageTests
{
    private const int Count = 500;

    [Fact]
    public void ToMnist_RealTestDigitsRedrawnOnPaper_GivesBackNearlyTheOriginals()
    {
        var images = IdxFile.ReadImages(Path.Combine(RealMnistFolder.Path, "t10k-images-idx3-ubyte"));
        var differences = new double[Count];
        var (sameBox, centreX, centreY) = (0, 0.0, 0.0);
        for (var i = 0; i < Count; i++)
        {
            var original = images.Pixels.AsSpan(i * 784, 784).ToArray();
            var picture = PaperDigits.Draw(original, 4, 172, 132, 40, 5);

            var prepared = DigitImage.ToMnist(picture, 172, 132);

            differences[i] = StrokeDigits.MeanAbsoluteDifference(prepared, original);
            sameBox += StrokeDigits.Bounds(prepared) == StrokeDigits.Bounds(original) ? 1 : 0;
            var (x, y) = StrokeDigits.CentreOfMass(original);
            (centreX, centreY) = (centreX + (x / Count), centreY + (y / Count));
        }

        Array.Sort(differences);
        var (mean, median, worst) = (differences.Average(), differences[Count / 2], differences[^1]);
        TestArtifacts.Write("digit-image-paper.txt", [
            string.Create(CultureInfo.InvariantCulture,
                $"{Count} MNIST test digits drawn 4x on paper and prepared again: mean absolute difference {mean:F2} grey levels (median {median:F2}, worst {worst:F2}); same bounding box: {sameBox}"),
            string.Create(CultureInfo.InvariantCulture, $"MNIST's own mean centre of mass (pixel indices): ({centreX:F2}, {centreY:F2})"),
        ]);
        mean.Should().BeLessThan(9, "measured 6.6 grey levels: resampling twice blurs a little");
        sameBox.Should().BeGreaterThan(Count * 4 / 10, "measured 251 of 500: the enlarged drawing spreads faint ink a pixel further");
    }

    [Fact]
    public void ToMnist_RealTestDigits_PassThroughUnchanged()
    {
        var images = IdxFile.ReadImages(Path.Combine(RealMnistFolder.Path, "t10k-images-idx3-ubyte"));
        for (var i = 0; i < Count; i++)
        {
            var original = images.Pixels.AsSpan(i * 784, 784);

            DigitImage.ToMnist(original, 28, 28).Should().Equal(original.ToArray(), $"test digit {i} is in MNIST's form already");
        }
    }
}
