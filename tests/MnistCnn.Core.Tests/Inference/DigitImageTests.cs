using MnistCnn.Core.Inference;

namespace MnistCnn.Core.Tests.Inference;

/// <summary>
/// <see cref="DigitImage"/> on digits drawn as pen strokes: the MNIST form (ink in a 20x20 box, centre of mass
/// at the centre, 0 background and 255 ink) whatever the picture's size, offset, polarity and pen.
/// </summary>
public sealed class DigitImageTests
{
    public static TheoryData<char, int, int, double, bool> Drawings()
    {
        var data = new TheoryData<char, int, int, double, bool>();
        foreach (var digit in "170")
        {
            // digit, picture side, digit height, pen width, light ink on dark paper
            data.Add(digit, 40, 24, 3, false);
            data.Add(digit, 90, 60, 6, true);
            data.Add(digit, 160, 110, 12, false);
            data.Add(digit, 160, 110, 2, true);
            data.Add(digit, 300, 200, 18, false);
            data.Add(digit, 30, 10, 1.5, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Drawings))]
    public void ToMnist_DrawnDigit_FitsTheTwentyPixelBoxWithItsMassAtTheCentre(char digit, int side, int digitHeight, double pen, bool lightOnDark)
    {
        var (paper, ink) = lightOnDark ? ((byte)10, (byte)230) : ((byte)240, (byte)25);
        var picture = StrokeDigits.Draw(digit, side + 17, side, side * 0.2, side * 0.1, digitHeight * 0.6, digitHeight, pen, paper, ink);

        var prepared = DigitImage.ToMnist(picture, side + 17, side);

        prepared.Should().HaveCount(784);
        var bounds = StrokeDigits.Bounds(prepared);
        Math.Max(bounds.Width, bounds.Height).Should().Be(20, "the longer side is scaled to 20 pixels");
        bounds.Width.Should().BeLessThanOrEqualTo(20);
        bounds.Height.Should().Be(20, "these digits are taller than wide");
        var (x, y) = StrokeDigits.CentreOfMass(prepared);
        x.Should().BeApproximately(14, 0.5, "the box moves by whole pixels to put the centre of mass nearest (14, 14)");
        y.Should().BeApproximately(14, 0.5);
        prepared.Max().Should().Be(255, "the strongest ink is 255");
        new[] { prepared[0], prepared[27], prepared[27 * 28], prepared[783] }.Should().OnlyContain(p => p == 0, "the background is 0");
    }

    [Theory]
    [InlineData('1')]
    [InlineData('7')]
    [InlineData('0')]
    public void ToMnist_SameDigitAtAnotherOffset_GivesTheSameBytes(char digit)
    {
        var here = StrokeDigits.Draw(digit, 120, 100, 10, 8, 40, 70, 7);
        var there = StrokeDigits.Draw(digit, 120, 100, 63, 21, 40, 70, 7);

        DigitImage.ToMnist(there, 120, 100).Should().Equal(DigitImage.ToMnist(here, 120, 100));
    }

    [Theory]
    [InlineData('1')]
    [InlineData('7')]
    [InlineData('0')]
    public void ToMnist_InvertedPicture_GivesTheSameBytes(char digit)
    {
        var darkOnLight = StrokeDigits.Draw(digit, 100, 90, 20, 10, 45, 70, 8, paper: 255, ink: 0);
        var lightOnDark = darkOnLight.Select(p => (byte)(255 - p)).ToArray();

        DigitImage.ToMnist(lightOnDark, 100, 90).Should().Equal(DigitImage.ToMnist(darkOnLight, 100, 90));
    }

    [Theory]
    [InlineData('1')]
    [InlineData('7')]
    [InlineData('0')]
    public void ToMnist_GreyPaperAndPaleInk_GivesNearlyTheBytesOfBlackOnWhite(char digit)
    {
        var crisp = StrokeDigits.Draw(digit, 100, 90, 20, 10, 45, 70, 8, paper: 255, ink: 0);
        var pale = StrokeDigits.Draw(digit, 100, 90, 20, 10, 45, 70, 8, paper: 200, ink: 110);

        StrokeDigits.MeanAbsoluteDifference(DigitImage.ToMnist(pale, 100, 90), DigitImage.ToMnist(crisp, 100, 90))
            .Should().BeLessThan(3, "paper is mapped to 0 and ink to 255 whatever their grey levels");
    }

    [Theory]
    [InlineData('1')]
    [InlineData('7')]
    [InlineData('0')]
    public void ToMnist_SameDrawingAtThreeSizes_GivesNearlyTheSameDigit(char digit)
    {
        // The pen scales with the drawing, as a photo taken from further away.
        var small = DigitImage.ToMnist(StrokeDigits.Draw(digit, 60, 60, 10, 10, 24, 40, 4), 60, 60);
        var medium = DigitImage.ToMnist(StrokeDigits.Draw(digit, 150, 150, 25, 25, 60, 100, 10), 150, 150);
        var large = DigitImage.ToMnist(StrokeDigits.Draw(digit, 400, 400, 70, 70, 160, 260, 26), 400, 400);

        StrokeDigits.ShiftedDifference(small, large).Should().BeLessThan(12);
        StrokeDigits.ShiftedDifference(medium, large).Should().BeLessThan(8);
    }

    [Fact]
    public void ToMnist_ThinAndThickPens_BothReachFullInkAndTheThickOneHasMoreOfIt()
    {
        var thin = DigitImage.ToMnist(StrokeDigits.Draw('7', 200, 200, 30, 20, 90, 150, 2), 200, 200);
        var thick = DigitImage.ToMnist(StrokeDigits.Draw('7', 200, 200, 30, 20, 90, 150, 16), 200, 200);

        thin.Max().Should().Be(255);
        thick.Max().Should().Be(255);
        thick.Sum(p => p).Should().BeGreaterThan(thin.Sum(p => p) * 3 / 2, "a pen 8 times wider leaves strokes at least half as wide again after scaling");
    }

    [Fact]
    public void ToMnist_TallNarrowOne_KeepsItsAspectRatio()
    {
        // A stroke 8 pixels wide and 160 tall becomes 1 pixel wide, not a 20x20 block.
        var picture = StrokeDigits.Draw('1', 100, 200, 46, 20, 0.01, 160, 8);

        var bounds = StrokeDigits.Bounds(DigitImage.ToMnist(picture, 100, 200));

        bounds.Height.Should().Be(20);
        bounds.Width.Should().BeLessThanOrEqualTo(3);
    }

    [Fact]
    public void ToMnist_DigitTouchingEveryEdge_StillTellsInkFromPaper()
    {
        // Cropped tightly: the border shows ink and paper alike, so the larger side (paper) decides.
        var picture = StrokeDigits.Draw('0', 50, 80, 0, 0, 50, 80, 6, paper: 250, ink: 5);

        var prepared = DigitImage.ToMnist(picture, 50, 80);

        prepared[14 * 28 + 14].Should().Be(0, "the middle of a 0 is paper");
        prepared.Max().Should().Be(255);
    }

    [Fact]
    public void ToMnist_SmallDigit_IsEnlargedToTheBox()
    {
        var picture = StrokeDigits.Draw('7', 64, 64, 30, 30, 6, 10, 2);

        var bounds = StrokeDigits.Bounds(DigitImage.ToMnist(picture, 64, 64));

        Math.Max(bounds.Width, bounds.Height).Should().Be(20, "a 10-pixel digit is enlarged");
    }

    [Fact]
    public void ToMnist_PreparedDigit_PassesThroughUnchanged()
    {
        var prepared = DigitImage.ToMnist(StrokeDigits.Draw('7', 150, 150, 25, 25, 60, 100, 10), 150, 150);

        DigitImage.ToMnist(prepared, 28, 28).Should().Equal(prepared, "a 28x28 light-on-black digit is MNIST's form already");
    }

    [Fact]
    public void ToMnist_Stride_ReadsOnlyTheRowsPixels()
    {
        var picture = StrokeDigits.Draw('0', 70, 60, 10, 5, 30, 50, 5);
        const int Stride = 83;
        var padded = new byte[60 * Stride];
        Random.Shared.NextBytes(padded);
        for (var y = 0; y < 60; y++)
        {
            picture.AsSpan(y * 70, 70).CopyTo(padded.AsSpan(y * Stride));
        }

        var expected = DigitImage.ToMnist(picture, 70, 60);

        DigitImage.ToMnist(padded, 70, 60, Stride).Should().Equal(expected);
        DigitImage.ToMnist(padded.AsSpan(0, (59 * Stride) + 70), 70, 60, Stride).Should().Equal(expected, "the last row needs no padding");
    }

    [Theory]
    [InlineData(255, 0)]
    [InlineData(0, 0)]
    [InlineData(128, 20)]
    public void TryToMnist_BlankOrFaintPicture_ReturnsFalseAndZeros(byte level, int noise)
    {
        var random = new Random(5);
        var picture = Enumerable.Range(0, 64 * 48).Select(_ => (byte)(level + random.Next(-noise / 2, (noise / 2) + 1))).ToArray();
        var destination = Enumerable.Repeat((byte)7, 784).ToArray();

        DigitImage.TryToMnist(picture, 64, 48, destination).Should().BeFalse();

        destination.Should().OnlyContain(p => p == 0);
        DigitImage.ToMnist(picture, 64, 48).Should().OnlyContain(p => p == 0);
    }

    [Fact]
    public void TryToMnist_DrawnDigit_ReturnsTrueAndTheDigit()
    {
        var picture = StrokeDigits.Draw('1', 50, 50, 10, 5, 20, 40, 4);
        var destination = new byte[784];

        DigitImage.TryToMnist(picture, 50, 50, destination).Should().BeTrue();

        destination.Should().Equal(DigitImage.ToMnist(picture, 50, 50));
    }

    [Fact]
    public void ToMnist_OnePixelPicture_IsBlank()
    {
        DigitImage.ToMnist([0], 1, 1).Should().OnlyContain(p => p == 0);
    }

    [Theory]
    [InlineData(0, 10, 0, "width")]
    [InlineData(-3, 10, 0, "width")]
    [InlineData(10, 0, 0, "height")]
    [InlineData(10, -1, 0, "height")]
    [InlineData(DigitImage.MaxSide + 1, 1, 0, "width")]
    [InlineData(1, DigitImage.MaxSide + 1, 0, "height")]
    [InlineData(10, 10, -1, "stride")]
    [InlineData(10, 10, 9, "stride")]
    public void ToMnist_BadSize_ThrowsArgumentOutOfRangeNamingIt(int width, int height, int stride, string name)
    {
        var act = () => DigitImage.ToMnist(new byte[100], width, height, stride);

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }

    [Theory]
    [InlineData(99)]
    [InlineData(101)]
    [InlineData(300)]
    [InlineData(0)]
    public void ToMnist_BufferOfAnotherLength_ThrowsArgumentExceptionNamingIt(int length)
    {
        var act = () => DigitImage.ToMnist(new byte[length], 10, 10);

        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("gray");
    }

    [Fact]
    public void ToMnist_NullArray_ThrowsArgumentExceptionNamingTheBuffer()
    {
        byte[]? missing = null;

        var act = () => DigitImage.ToMnist(missing, 28, 28);

        act.Should().Throw<ArgumentException>().WithMessage("*empty*").Which.ParamName.Should().Be("gray");
    }

    [Theory]
    [InlineData(783)]
    [InlineData(785)]
    public void TryToMnist_DestinationOfAnotherLength_ThrowsArgumentExceptionNamingIt(int length)
    {
        var act = () => DigitImage.TryToMnist(new byte[100], 10, 10, new byte[length]);

        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("destination");
    }

    [Fact]
    public void ToMnist_PhotoSizedPicture_FindsTheDigitInACorner()
    {
        // 3000 x 2000 pixels, the digit 150 pixels tall near the bottom right: no copy of the picture is made.
        const int Width = 3000, Height = 2000;
        var picture = StrokeDigits.Draw('7', Width, Height, 2700, 1800, 90, 150, 12, paper: 220, ink: 40);
        var small = StrokeDigits.Draw('7', 120, 190, 15, 20, 90, 150, 12, paper: 220, ink: 40);

        var prepared = DigitImage.ToMnist(picture, Width, Height);

        prepared.Should().Equal(DigitImage.ToMnist(small, 120, 190), "only the ink's surroundings matter");
    }

    [Fact]
    public void TryToMnist_RandomPicturesOfAnySize_NeverThrowAndGiveMnistBytes()
    {
        // Noise, stripes, single dots, one-pixel-wide and one-pixel-high pictures: whatever they show, the
        // answer is 784 bytes, and no ink means all zero.
        var random = new Random(12);
        var (withInk, blank) = (0, 0);
        for (var trial = 0; trial < 400; trial++)
        {
            var (width, height) = (random.Next(1, 70), random.Next(1, 70));
            var stride = width + (trial % 3 == 0 ? random.Next(0, 9) : 0);
            var picture = new byte[height * stride];
            switch (trial % 4)
            {
                case 0:
                    random.NextBytes(picture);
                    break;
                case 1:
                    Array.Fill(picture, (byte)random.Next(256));
                    picture[random.Next(picture.Length)] = (byte)random.Next(256);
                    break;
                case 2:
                    for (var i = 0; i < picture.Length; i++)
                    {
                        picture[i] = (byte)((i / 3 % 2) * 200);
                    }

                    break;
                default:
                    Array.Fill(picture, (byte)random.Next(256));
                    break;
            }

            var destination = new byte[784];
            if (DigitImage.TryToMnist(picture, width, height, destination, stride))
            {
                withInk++;
            }
            else
            {
                destination.Should().OnlyContain(p => p == 0, "a picture without ink gives zeros");
                blank++;
            }
        }

        withInk.Should().BeGreaterThan(100);
        blank.Should().BeGreaterThan(50);
    }
}
