using MnistCnn.Core.Engine;

namespace MnistCnn.Core.Inference;

/// <summary>
/// Turns a picture of a handwritten digit (8-bit grey pixels, any size, dark ink on light paper or light on
/// dark) into the form MNIST's digits have, which is the form the network was trained on: 28x28 bytes, 0 for
/// the background and 255 for full ink, the digit scaled to fit a 20x20 box and placed with its centre of
/// mass at the centre. Pure managed code; decoding PNG or JPEG files is left to the application.
/// </summary>
/// <remarks>
/// <para>The steps follow how MNIST was made from NIST's scans:</para>
/// <list type="number">
/// <item><description>Ink or paper: Otsu's threshold splits the grey levels in two; the paper is the side the
/// image's border mostly shows (when the border is split evenly, the side with more pixels). The paper's level
/// is the median of its side, the ink's level lies near the extreme of the other side; every pixel is mapped
/// linearly from paper (0) to ink (255), clamped. Ink and paper closer than 32 grey levels mean no ink.</description></item>
/// <item><description>Crop to the bounding box of the pixels at least 20% inked.</description></item>
/// <item><description>Scale so the longer side is 20 pixels, keeping the aspect ratio: shrinking averages each
/// target pixel's footprint by area (anti-aliasing, as NIST's normalisation did); enlarging is bilinear. The
/// levels are then scaled so that the inked pixels' 90th percentile is 255 (clamped): thin strokes on a large
/// picture would otherwise average out to a faint grey that MNIST's digits never show.</description></item>
/// <item><description>Place the 20-pixel box in the 28x28 field, moved by whole pixels so that its centre of
/// mass is nearest the centre of pixel (14, 14), as in MNIST; where that would push ink off the field, the box stops at the
/// edge instead.</description></item>
/// </list>
/// <para>A 28x28 picture already in MNIST's form (light ink on a background of exactly 0, the ink 19 or 20
/// pixels on its longer side, its centre of mass within a pixel of the centre, as all 70,000 MNIST digits are)
/// is returned unchanged rather than resampled a second time.</para>
/// <para>Uneven lighting (shadows across a photo) is not corrected: the paper must be about one grey level.</para>
/// </remarks>
public static class DigitImage
{
    /// <summary>The side of the prepared image in pixels (28).</summary>
    public const int Size = NetworkDescription.ImageSize;

    /// <summary>The number of bytes of a prepared image (28 x 28 = 784).</summary>
    public const int PixelCount = Size * Size;

    /// <summary>The side of the box the digit is scaled to fit (20), as in MNIST.</summary>
    public const int DigitBoxSize = 20;

    /// <summary>The largest accepted width or height in pixels (65,536); larger sizes are taken as a mistake.</summary>
    public const int MaxSide = 1 << 16;

    // Pixels at least this inked (of 255) count for the bounding box: the anti-aliased edge of a stroke does,
    // faint paper texture and compression noise do not.
    // The pixel the centre of mass is brought to, in both directions.
    private const int Centre = Size / 2;

    private const float BoundingBoxInk = 0.2f * 255f;

    // The inked pixels' level brought to 255 after scaling: their 90th percentile, so that one dense crossing
    // of strokes does not decide how strong a thin pen's strokes come out.
    private const float FullInkPercentile = 0.9f;

    /// <summary>
    /// Prepares a picture of a digit as MNIST's digits were made (see <see cref="DigitImage"/>).
    /// </summary>
    /// <param name="gray">The pixels, one byte each (0 black .. 255 white), row after row.</param>
    /// <param name="width">The width in pixels, 1 to <see cref="MaxSide"/>.</param>
    /// <param name="height">The height in pixels, 1 to <see cref="MaxSide"/>.</param>
    /// <param name="stride">The distance between the starts of two rows in bytes, at least
    /// <paramref name="width"/>; 0 (the default) means <paramref name="width"/>.</param>
    /// <returns>784 bytes, row-major, 0 background to 255 ink; all zero when the picture shows no ink
    /// (use <see cref="TryToMnist"/> to tell a blank picture apart).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or above <see cref="MaxSide"/>, or the
    /// stride is negative or below the width.</exception>
    /// <exception cref="ArgumentException"><paramref name="gray"/> does not hold <paramref name="height"/> rows of
    /// <paramref name="stride"/> bytes (the last row may end after <paramref name="width"/> bytes).</exception>
    public static byte[] ToMnist(ReadOnlySpan<byte> gray, int width, int height, int stride = 0)
    {
        var digit = new byte[PixelCount];
        TryToMnist(gray, width, height, digit, stride);
        return digit;
    }

    /// <summary>
    /// Prepares a picture of a digit as MNIST's digits were made (see <see cref="DigitImage"/>) into
    /// <paramref name="destination"/>, and tells whether it shows any ink.
    /// </summary>
    /// <param name="gray">The pixels, one byte each (0 black .. 255 white), row after row.</param>
    /// <param name="width">The width in pixels, 1 to <see cref="MaxSide"/>.</param>
    /// <param name="height">The height in pixels, 1 to <see cref="MaxSide"/>.</param>
    /// <param name="destination">Receives the 784 bytes, row-major, 0 background to 255 ink.</param>
    /// <param name="stride">The distance between the starts of two rows in bytes, at least
    /// <paramref name="width"/>; 0 (the default) means <paramref name="width"/>.</param>
    /// <returns><see langword="true"/> when the picture shows ink and <paramref name="destination"/> holds the
    /// prepared digit; <see langword="false"/> when it shows none (one grey level, or ink and paper closer than
    /// 32 levels), and <paramref name="destination"/> is all zero.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or above <see cref="MaxSide"/>, or the
    /// stride is negative or below the width.</exception>
    /// <exception cref="ArgumentException"><paramref name="gray"/> does not hold <paramref name="height"/> rows of
    /// <paramref name="stride"/> bytes (the last row may end after <paramref name="width"/> bytes), or
    /// <paramref name="destination"/> is not 784 bytes long.</exception>
    public static bool TryToMnist(ReadOnlySpan<byte> gray, int width, int height, Span<byte> destination, int stride = 0)
    {
        stride = Validate(gray, width, height, stride);
        if (destination.Length != PixelCount)
        {
            throw new ArgumentException($"The destination must be {PixelCount} bytes long ({Size}x{Size}); it is {destination.Length}.", nameof(destination));
        }

        // The picture is read completely before the destination is written, so the two may share memory.
        Span<long> histogram = stackalloc long[256];
        Span<long> border = stackalloc long[256];
        Histograms(gray, width, height, stride, histogram, border);
        if (InkLevels.Find(histogram, border) is not { } levels)
        {
            destination.Clear();
            return false;
        }

        if (width == Size && height == Size && !levels.LightPaper && levels.Paper == 0 && IsMnistForm(gray, stride))
        {
            for (var y = 0; y < Size; y++)
            {
                gray.Slice(y * stride, Size).CopyTo(destination.Slice(y * Size, Size));
            }

            return true;
        }

        Span<float> inkTable = stackalloc float[256];
        levels.FillInkTable(inkTable);
        if (InkBounds(gray, width, height, stride, inkTable) is not { } crop)
        {
            destination.Clear();
            return false;
        }

        // Longer side to 20 pixels, the same factor on both axes; the shorter side rounds, at least 1 pixel.
        var footprint = Math.Max(crop.Width, crop.Height) / (double)DigitBoxSize;
        var target = (
            Width: Math.Clamp((int)Math.Round(crop.Width / footprint), 1, DigitBoxSize),
            Height: Math.Clamp((int)Math.Round(crop.Height / footprint), 1, DigitBoxSize));
        Span<float> box = stackalloc float[DigitBoxSize * DigitBoxSize];
        AreaResampler.Resample(gray, width, height, stride, inkTable, crop, target, footprint, box);
        return Place(box, target.Width, target.Height, destination);
    }

    /// <summary>Checks the arguments and returns the effective stride.</summary>
    private static int Validate(ReadOnlySpan<byte> gray, int width, int height, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, MaxSide);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, MaxSide);
        ArgumentOutOfRangeException.ThrowIfNegative(stride);
        if (stride == 0)
        {
            stride = width;
        }
        else if (stride < width)
        {
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"The stride ({stride}) must be at least the width ({width}), or 0 for the width.");
        }

        // Exactly height rows: a buffer of another length is a mistake (another size, or 3 or 4 bytes per
        // pixel), which would otherwise give a wrong answer without a word.
        var full = (long)height * stride;
        var lastRowShort = ((long)(height - 1) * stride) + width;
        if (gray.Length != full && gray.Length != lastRowShort)
        {
            var expected = full == lastRowShort ? $"{full}" : $"{full} (or {lastRowShort} without the last row's padding)";
            throw new ArgumentException(
                $"The pixel buffer holds {gray.Length} bytes, but {height} rows of {stride} bytes for a {width}x{height} grey image need {expected}"
                + (gray.IsEmpty ? "; it is empty (a null array?)." : "."),
                nameof(gray));
        }

        return stride;
    }

    /// <summary>
    /// Whether a 28x28 light-on-black picture is laid out as MNIST's digits are: its ink's bounding box 19 or
    /// 20 pixels on the longer side and its centre of mass within a pixel of (14, 14). All 70,000 MNIST
    /// digits are (longer side 19-20, centre of mass within 0.52 pixels).
    /// </summary>
    private static bool IsMnistForm(ReadOnlySpan<byte> gray, int stride)
    {
        var (left, top, right, bottom) = (Size, Size, -1, -1);
        double mass = 0, sumX = 0, sumY = 0;
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var v = gray[(y * stride) + x];
                if (v > 0)
                {
                    (left, right) = (Math.Min(left, x), Math.Max(right, x));
                    (top, bottom) = (Math.Min(top, y), Math.Max(bottom, y));
                    mass += v;
                    sumX += v * x;
                    sumY += v * y;
                }
            }
        }

        var side = Math.Max(right - left, bottom - top) + 1;
        return side is DigitBoxSize - 1 or DigitBoxSize
            && Math.Abs((sumX / mass) - Centre) <= 1 && Math.Abs((sumY / mass) - Centre) <= 1;
    }

    private static void Histograms(ReadOnlySpan<byte> gray, int width, int height, int stride, Span<long> histogram, Span<long> border)
    {
        for (var y = 0; y < height; y++)
        {
            var row = gray.Slice(y * stride, width);
            foreach (var v in row)
            {
                histogram[v]++;
            }

            if (y == 0 || y == height - 1)
            {
                foreach (var v in row)
                {
                    border[v]++;
                }
            }
            else
            {
                border[row[0]]++;
                if (width > 1)
                {
                    border[row[width - 1]]++;
                }
            }
        }
    }

    private static (int Left, int Top, int Width, int Height)? InkBounds(ReadOnlySpan<byte> gray, int width, int height, int stride,
        ReadOnlySpan<float> inkTable)
    {
        Span<bool> isInk = stackalloc bool[256];
        for (var v = 0; v < 256; v++)
        {
            isInk[v] = inkTable[v] >= BoundingBoxInk;
        }

        var (left, top, right, bottom) = (width, height, -1, -1);
        for (var y = 0; y < height; y++)
        {
            var row = gray.Slice(y * stride, width);
            var first = 0;
            while (first < width && !isInk[row[first]])
            {
                first++;
            }

            if (first == width)
            {
                continue;
            }

            var last = width - 1;
            while (!isInk[row[last]])
            {
                last--;
            }

            (left, right) = (Math.Min(left, first), Math.Max(right, last));
            (top, bottom) = (Math.Min(top, y), y);
        }

        return right < 0 ? null : (left, top, right - left + 1, bottom - top + 1);
    }

    /// <summary>Places the box in the 28x28 field by its centre of mass; false when it holds no ink.</summary>
    private static bool Place(ReadOnlySpan<float> box, int width, int height, Span<byte> destination)
    {
        double mass = 0, sumX = 0, sumY = 0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var m = box[(y * width) + x];
                mass += m;
                sumX += m * x;
                sumY += m * y;
            }
        }

        if (mass <= 0)
        {
            return false;
        }

        // Thin strokes on a large picture average out to a faint grey: bring most of the ink to full strength.
        Span<float> inked = stackalloc float[width * height];
        var count = 0;
        foreach (var v in box[..(width * height)])
        {
            if (v > 0)
            {
                inked[count++] = v;
            }
        }

        inked = inked[..count];
        inked.Sort();
        var gain = 255f / inked[Math.Min(count - 1, (int)(FullInkPercentile * count))];

        destination.Clear();

        // Whole-pixel moves, as MNIST's translation, bringing the mass onto pixel (14, 14) as in MNIST (whose
        // test digits' mean centre of mass is pixel 14.0, 14.0 to within 0.02); clamped so no ink leaves the field.
        var left = Math.Clamp((int)Math.Round(Centre - (sumX / mass)), 0, Size - width);
        var top = Math.Clamp((int)Math.Round(Centre - (sumY / mass)), 0, Size - height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var value = Math.Clamp(box[(y * width) + x] * gain, 0f, 255f);
                destination[((top + y) * Size) + left + x] = (byte)(value + 0.5f);
            }
        }

        return true;
    }
}
