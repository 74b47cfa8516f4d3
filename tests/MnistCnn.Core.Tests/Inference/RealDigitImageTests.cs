using MnistCnn.Core.Data.Idx;
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
        var changed = Enumerable.Range(0, images.Count)
            .Where(i => !DigitImage.ToMnist(images.Pixels.AsSpan(i * 784, 784), 28, 28).AsSpan().SequenceEqual(images.Pixels.AsSpan(i * 784, 784)))
            .ToArray();

        changed.Should().BeEmpty("every MNIST test digit is in MNIST's form already");
    }

    [Fact]
    public void ToMnist_RealTestDigitMovedToACorner_IsCentredAgain()
    {
        // A 28x28 light-on-black picture that is not in MNIST's form is prepared, not passed through.
        var images = IdxFile.ReadImages(Path.Combine(RealMnistFolder.Path, "t10k-images-idx3-ubyte"));
        var original = images.Pixels.AsSpan(0, 784).ToArray();
        var bounds = StrokeDigits.Bounds(original);
        var moved = new byte[784];
        for (var y = 0; y < bounds.Height; y++)
        {
            original.AsSpan(((bounds.Top + y) * 28) + bounds.Left, bounds.Width).CopyTo(moved.AsSpan(y * 28));
        }

        var prepared = DigitImage.ToMnist(moved, 28, 28);

        var (centreX, centreY) = StrokeDigits.CentreOfMass(prepared);
        centreX.Should().BeApproximately(14, 0.6);
        centreY.Should().BeApproximately(14, 0.6);
        StrokeDigits.MeanAbsoluteDifference(prepared, original).Should().BeLessThan(1, "the ink is only rescaled and moved back (measured: 0.09 grey levels of mean difference)");
    }
}
