namespace MnistCnn.Core.Tests.Inference;

/// <summary>
/// Draws digits as anti-aliased pen strokes into grey pixel buffers, as a scan or a drawing app would
/// show them: polylines in a unit box (x right, y down) mapped onto a rectangle of the picture.
/// </summary>
internal static class StrokeDigits
{
    private const int Subsamples = 4;

    /// <summary>The strokes of a digit in its unit box.</summary>
    public static (double X, double Y)[][] Strokes(char digit) => digit switch
    {
        '1' => [[(0.25, 0.2), (0.55, 0.0), (0.55, 1.0)]],
        '7' => [[(0.05, 0.0), (0.95, 0.0), (0.4, 1.0)]],
        '0' => [Ellipse(0.5, 0.5, 0.45, 0.5, 48)],
        _ => throw new ArgumentOutOfRangeException(nameof(digit), digit, "only 1, 7 and 0 are drawn"),
    };

    /// <summary>
    /// A <paramref name="width"/> x <paramref name="height"/> picture with <paramref name="digit"/> drawn in the
    /// rectangle (<paramref name="left"/>, <paramref name="top"/>, <paramref name="boxWidth"/>, <paramref name="boxHeight"/>)
    /// with a pen <paramref name="pen"/> pixels wide, ink level <paramref name="ink"/> on paper level <paramref name="paper"/>.
    /// </summary>
    public static byte[] Draw(char digit, int width, int height, double left, double top, double boxWidth, double boxHeight,
        double pen, byte paper = 255, byte ink = 0)
    {
        var segments = Strokes(digit)
            .SelectMany(line => line.Zip(line.Skip(1)))
            .Select(s => (Ax: left + (s.First.X * boxWidth), Ay: top + (s.First.Y * boxHeight),
                          Bx: left + (s.Second.X * boxWidth), By: top + (s.Second.Y * boxHeight)))
            .ToArray();
        var radius = pen / 2;
        var pixels = new byte[width * height];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                pixels[(y * width) + x] = paper;
                if (x + 1 < left - radius || x > left + boxWidth + radius || y + 1 < top - radius || y > top + boxHeight + radius)
                {
                    continue;
                }

                var covered = 0;
                for (var sy = 0; sy < Subsamples; sy++)
                {
                    for (var sx = 0; sx < Subsamples; sx++)
                    {
                        var (px, py) = (x + ((sx + 0.5) / Subsamples), y + ((sy + 0.5) / Subsamples));
                        if (segments.Any(s => Distance(px, py, s.Ax, s.Ay, s.Bx, s.By) <= radius))
                        {
                            covered++;
                        }
                    }
                }

                var coverage = covered / (double)(Subsamples * Subsamples);
                pixels[(y * width) + x] = (byte)Math.Round(paper + ((ink - paper) * coverage));
            }
        }

        return pixels;
    }

    /// <summary>The bounding box of the non-zero pixels of a 28x28 image: left, top, width, height.</summary>
    public static (int Left, int Top, int Width, int Height) Bounds(byte[] digit)
    {
        var (left, top, right, bottom) = (28, 28, -1, -1);
        for (var i = 0; i < digit.Length; i++)
        {
            if (digit[i] > 0)
            {
                var (x, y) = (i % 28, i / 28);
                (left, top, right, bottom) = (Math.Min(left, x), Math.Min(top, y), Math.Max(right, x), Math.Max(bottom, y));
            }
        }

        return right < 0 ? (0, 0, 0, 0) : (left, top, right - left + 1, bottom - top + 1);
    }

    /// <summary>The centre of mass of a 28x28 image in pixel indices (MNIST puts it at pixel 14, 14).</summary>
    public static (double X, double Y) CentreOfMass(byte[] digit)
    {
        double mass = 0, sx = 0, sy = 0;
        for (var i = 0; i < digit.Length; i++)
        {
            mass += digit[i];
            sx += digit[i] * (i % 28);
            sy += digit[i] * (i / 28);
        }

        return (sx / mass, sy / mass);
    }

    /// <summary>The mean absolute difference of two images, in grey levels.</summary>
    public static double MeanAbsoluteDifference(byte[] a, byte[] b) => a.Zip(b, (p, q) => Math.Abs(p - q)).Average();

    /// <summary>
    /// The smallest mean absolute difference of two images when one may move by up to a pixel either way:
    /// placement by whole pixels can round a centre of mass half a pixel up or down.
    /// </summary>
    public static double ShiftedDifference(byte[] a, byte[] b)
    {
        var best = double.MaxValue;
        for (var dy = -1; dy <= 1; dy++)
        {
            for (var dx = -1; dx <= 1; dx++)
            {
                double sum = 0;
                for (var y = 0; y < 28; y++)
                {
                    for (var x = 0; x < 28; x++)
                    {
                        var (sx, sy) = (x + dx, y + dy);
                        var other = sx is >= 0 and < 28 && sy is >= 0 and < 28 ? b[(sy * 28) + sx] : 0;
                        sum += Math.Abs(a[(y * 28) + x] - other);
                    }
                }

                best = Math.Min(best, sum / 784);
            }
        }

        return best;
    }

    private static (double, double)[] Ellipse(double cx, double cy, double rx, double ry, int points) =>
        Enumerable.Range(0, points + 1)
            .Select(i => (cx + (rx * Math.Cos(2 * Math.PI * i / points)), cy + (ry * Math.Sin(2 * Math.PI * i / points))))
            .ToArray();

    private static double Distance(double px, double py, double ax, double ay, double bx, double by)
    {
        var (dx, dy) = (bx - ax, by - ay);
        var lengthSquared = (dx * dx) + (dy * dy);
        var t = lengthSquared == 0 ? 0 : Math.Clamp((((px - ax) * dx) + ((py - ay) * dy)) / lengthSquared, 0, 1);
        var (cx, cy) = (ax + (t * dx) - px, ay + (t * dy) - py);
        return Math.Sqrt((cx * cx) + (cy * cy));
    }
}
