namespace MnistCnn.Core.Inference;

/// <summary>
/// Scales a rectangle of a grey image by one factor on both axes, separably. Shrinking (the usual case:
/// a photo or scan is larger than 20 pixels) averages each target pixel's footprint exactly, weighting every
/// source pixel by the area it shares with it, which anti-aliases as NIST's normalisation did; enlarging
/// (a digit smaller than 20 pixels) interpolates bilinearly. Outside the image counts as paper (0).
/// </summary>
internal static class AreaResampler
{
    /// <summary>
    /// Resamples the rectangle <paramref name="crop"/> of the image into <paramref name="target"/>'s size, each
    /// target pixel covering <paramref name="footprint"/> source pixels per side; the rectangle is centred in
    /// the target.
    /// </summary>
    /// <param name="gray">The image, rows of <paramref name="stride"/> bytes.</param>
    /// <param name="imageWidth">The image's width.</param>
    /// <param name="imageHeight">The image's height.</param>
    /// <param name="stride">The distance between rows in bytes.</param>
    /// <param name="inkTable">Each grey level's ink value.</param>
    /// <param name="crop">The rectangle: left, top, width, height.</param>
    /// <param name="target">The target's width and height.</param>
    /// <param name="footprint">Source pixels per target pixel, the same on both axes.</param>
    /// <param name="destination">The target pixels, row-major, <c>width * height</c> of them.</param>
    public static void Resample(
        ReadOnlySpan<byte> gray, int imageWidth, int imageHeight, int stride, ReadOnlySpan<float> inkTable,
        (int Left, int Top, int Width, int Height) crop, (int Width, int Height) target, double footprint, Span<float> destination)
    {
        var columns = Weights(crop.Left, crop.Width, target.Width, footprint, imageWidth);
        var rows = Weights(crop.Top, crop.Height, target.Height, footprint, imageHeight);

        var (firstRow, lastRow) = (int.MaxValue, int.MinValue);
        foreach (var row in rows)
        {
            foreach (var (index, _) in row)
            {
                (firstRow, lastRow) = (Math.Min(firstRow, index), Math.Max(lastRow, index));
            }
        }

        destination[..(target.Width * target.Height)].Clear();
        if (lastRow < firstRow)
        {
            return;
        }

        // Horizontal pass over the rows the vertical pass reads, then the vertical pass.
        var horizontal = new float[(lastRow - firstRow + 1) * target.Width];
        for (var y = firstRow; y <= lastRow; y++)
        {
            var line = gray.Slice(y * stride, imageWidth);
            var output = horizontal.AsSpan((y - firstRow) * target.Width, target.Width);
            for (var x = 0; x < target.Width; x++)
            {
                var sum = 0f;
                foreach (var (index, weight) in columns[x])
                {
                    sum += inkTable[line[index]] * weight;
                }

                output[x] = sum;
            }
        }

        for (var y = 0; y < target.Height; y++)
        {
            var output = destination.Slice(y * target.Width, target.Width);
            foreach (var (index, weight) in rows[y])
            {
                var input = horizontal.AsSpan((index - firstRow) * target.Width, target.Width);
                for (var x = 0; x < target.Width; x++)
                {
                    output[x] += input[x] * weight;
                }
            }
        }
    }

    /// <summary>For each target pixel along one axis, the source pixels it reads and their weights.</summary>
    private static (int Index, float Weight)[][] Weights(int start, int length, int targetLength, double footprint, int imageLength)
    {
        // Centre the source span the target covers on the crop (they differ by under one target pixel).
        var origin = start + ((length - (targetLength * footprint)) / 2);
        var weights = new (int, float)[targetLength][];
        var list = new List<(int, float)>();
        for (var i = 0; i < targetLength; i++)
        {
            list.Clear();
            var (from, to) = (origin + (i * footprint), origin + ((i + 1) * footprint));
            if (footprint >= 1)
            {
                for (var j = (int)Math.Floor(from); j < to; j++)
                {
                    var overlap = Math.Min(to, j + 1) - Math.Max(from, j);
                    if (overlap > 0 && j >= 0 && j < imageLength)
                    {
                        list.Add((j, (float)(overlap / footprint)));
                    }
                }
            }
            else
            {
                var centre = ((from + to) / 2) - 0.5;
                var j = (int)Math.Floor(centre);
                var fraction = centre - j;
                if (j >= 0 && j < imageLength)
                {
                    list.Add((j, (float)(1 - fraction)));
                }

                if (j + 1 >= 0 && j + 1 < imageLength && fraction > 0)
                {
                    list.Add((j + 1, (float)fraction));
                }
            }

            weights[i] = [.. list];
        }

        return weights;
    }
}
