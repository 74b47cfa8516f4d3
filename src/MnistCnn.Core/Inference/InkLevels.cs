namespace MnistCnn.Core.Inference;

/// <summary>
/// Decides from an image's grey-level histograms which side is paper and which is ink, and at which grey
/// levels each lies, so that every pixel can be mapped to MNIST's scale (0 paper .. 255 ink).
/// </summary>
/// <remarks>
/// Ink and paper are split by Otsu's threshold over the whole image. The paper is the side the border
/// mostly shows: a digit is drawn inside its picture. When the border is split about evenly (a digit
/// cropped tightly, touching the edges), the side with more pixels is the paper: strokes cover a small
/// part of a digit's picture (about a fifth in MNIST).
/// </remarks>
internal readonly record struct InkLevels(bool LightPaper, int Paper, int Ink)
{
    /// <summary>Ink and paper closer than this (of 255 grey levels) is no ink: a blank picture or noise.</summary>
    public const int MinimumContrast = 32;

    // Only a border clearly light or clearly dark decides the polarity on its own.
    private const double DecisiveBorderShare = 0.6;

    // The ink level is taken where this share of the ink pixels is darker (for dark ink), not at the single
    // darkest pixel, so one speck of dirt or a JPEG artefact does not set the scale.
    private const int InkExtremeDivisor = 50;

    /// <summary>The grey-level distance between paper and ink.</summary>
    public int Contrast => Math.Abs(Ink - Paper);

    /// <summary>
    /// Finds paper and ink from <paramref name="histogram"/> (all pixels) and <paramref name="border"/> (the
    /// outermost rows and columns); <see langword="null"/> when the picture has no ink (too little contrast).
    /// </summary>
    public static InkLevels? Find(ReadOnlySpan<long> histogram, ReadOnlySpan<long> border)
    {
        var (lowest, highest) = (FirstNonZero(histogram), LastNonZero(histogram));
        if (highest - lowest < MinimumContrast)
        {
            return null;
        }

        var threshold = OtsuThreshold(histogram);
        var lightPaper = IsPaperLight(histogram, border, threshold);

        // Paper: the median of its side. Ink: near the extreme of its side.
        int paper, ink;
        if (lightPaper)
        {
            paper = Median(histogram, threshold + 1, 255);
            var inkCount = Count(histogram, 0, threshold);
            ink = LevelFromLow(histogram, Math.Max(1, inkCount / InkExtremeDivisor));
        }
        else
        {
            paper = Median(histogram, 0, threshold);
            var inkCount = Count(histogram, threshold + 1, 255);
            ink = LevelFromHigh(histogram, Math.Max(1, inkCount / InkExtremeDivisor));
        }

        var levels = new InkLevels(lightPaper, paper, ink);
        return levels.Contrast < MinimumContrast ? null : levels;
    }

    /// <summary>Fills <paramref name="table"/> (256 entries) with each grey level's ink value, 0 (paper) to 255 (ink).</summary>
    public void FillInkTable(Span<float> table)
    {
        var range = (float)(Ink - Paper);
        for (var v = 0; v < 256; v++)
        {
            table[v] = Math.Clamp((v - Paper) / range, 0f, 1f) * 255f;
        }
    }

    private static bool IsPaperLight(ReadOnlySpan<long> histogram, ReadOnlySpan<long> border, int threshold)
    {
        var borderCount = Count(border, 0, 255);
        var lightShare = (double)Count(border, threshold + 1, 255) / borderCount;
        if (lightShare >= DecisiveBorderShare)
        {
            return true;
        }

        if (lightShare <= 1 - DecisiveBorderShare)
        {
            return false;
        }

        return Count(histogram, threshold + 1, 255) * 2 > Count(histogram, 0, 255);
    }

    /// <summary>Otsu's threshold: the level t that best separates levels ≤ t from levels above it.</summary>
    private static int OtsuThreshold(ReadOnlySpan<long> histogram)
    {
        double total = 0, sum = 0;
        for (var v = 0; v < 256; v++)
        {
            total += histogram[v];
            sum += (double)v * histogram[v];
        }

        double lowCount = 0, lowSum = 0, bestVariance = -1;
        var best = 0;
        for (var t = 0; t < 255; t++)
        {
            lowCount += histogram[t];
            lowSum += (double)t * histogram[t];
            var highCount = total - lowCount;
            if (lowCount == 0 || highCount == 0)
            {
                continue;
            }

            var difference = (lowSum / lowCount) - ((sum - lowSum) / highCount);
            var variance = lowCount * highCount * difference * difference;
            if (variance > bestVariance)
            {
                (bestVariance, best) = (variance, t);
            }
        }

        return best;
    }

    private static long Count(ReadOnlySpan<long> histogram, int from, int to)
    {
        long count = 0;
        for (var v = from; v <= to; v++)
        {
            count += histogram[v];
        }

        return count;
    }

    private static int Median(ReadOnlySpan<long> histogram, int from, int to)
    {
        var half = (Count(histogram, from, to) + 1) / 2;
        long seen = 0;
        for (var v = from; v <= to; v++)
        {
            seen += histogram[v];
            if (seen >= half)
            {
                return v;
            }
        }

        return to;
    }

    private static int LevelFromLow(ReadOnlySpan<long> histogram, long count)
    {
        long seen = 0;
        for (var v = 0; v < 256; v++)
        {
            seen += histogram[v];
            if (seen >= count)
            {
                return v;
            }
        }

        return 255;
    }

    private static int LevelFromHigh(ReadOnlySpan<long> histogram, long count)
    {
        long seen = 0;
        for (var v = 255; v >= 0; v--)
        {
            seen += histogram[v];
            if (seen >= count)
            {
                return v;
            }
        }

        return 0;
    }

    private static int FirstNonZero(ReadOnlySpan<long> histogram)
    {
        var v = 0;
        while (v < 255 && histogram[v] == 0)
        {
            v++;
        }

        return v;
    }

    private static int LastNonZero(ReadOnlySpan<long> histogram)
    {
        var v = 255;
        while (v > 0 && histogram[v] == 0)
        {
            v--;
        }

        return v;
    }
}
