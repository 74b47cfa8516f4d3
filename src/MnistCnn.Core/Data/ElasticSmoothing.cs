namespace MnistCnn.Core.Data;

/// <summary>
/// The elastic option's displacement field in managed code: an image's drawn field (<see
/// cref="BatchAugmentation.DrawElasticField"/>) smoothed by a separable Gaussian (along x, then along y; zeros
/// beyond the edges) and scaled by alpha into <c>grid_sample</c>'s normalised units.
/// </summary>
internal sealed class ElasticSmoothing
{
    private readonly int _height;
    private readonly int _width;
    private readonly double[] _kernel;
    private readonly double _scaleX;
    private readonly double _scaleY;
    private readonly double[] _field;
    private readonly double[] _alongX;

    public ElasticSmoothing(DigitAugmentation options, int height, int width)
    {
        (_height, _width) = (height, width);
        _kernel = Kernel(options.ElasticSigma);

        // Pixels to normalised units: one pixel is 2 / W along x and 2 / H along y.
        _scaleX = options.ElasticAlpha * 2 / width;
        _scaleY = options.ElasticAlpha * 2 / height;
        _field = new double[2 * height * width];
        _alongX = new double[height * width];
    }

    /// <summary>The normalised Gaussian of <paramref name="sigma"/> pixels, radius <c>ceil(3 sigma)</c>.</summary>
    public static double[] Kernel(double sigma)
    {
        var radius = (int)Math.Ceiling(3 * sigma);
        var kernel = new double[(2 * radius) + 1];
        for (var k = -radius; k <= radius; k++)
        {
            kernel[k + radius] = Math.Exp(-(k * k) / (2 * sigma * sigma));
        }

        var total = kernel.Sum();
        for (var k = 0; k < kernel.Length; k++)
        {
            kernel[k] /= total;
        }

        return kernel;
    }

    /// <summary>Writes the displacement of the image at dataset <paramref name="index"/>, <c>[H, W, 2]</c> (x, y), to <paramref name="destination"/>.</summary>
    public void Displacement(long seed, int epoch, long index, Span<double> destination)
    {
        var plane = _height * _width;
        BatchAugmentation.DrawElasticField(seed, epoch, index, _field);
        Smooth(_field.AsSpan(0, plane), destination, 0, _scaleX);
        Smooth(_field.AsSpan(plane, plane), destination, 1, _scaleY);
    }

    private void Smooth(ReadOnlySpan<double> plane, Span<double> destination, int axis, double scale)
    {
        var (height, width, radius) = (_height, _width, _kernel.Length / 2);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var total = 0.0;
                for (var d = Math.Max(-radius, -x); d <= Math.Min(radius, width - 1 - x); d++)
                {
                    total += _kernel[d + radius] * plane[(y * width) + x + d];
                }

                _alongX[(y * width) + x] = total;
            }
        }

        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var total = 0.0;
                for (var d = Math.Max(-radius, -y); d <= Math.Min(radius, height - 1 - y); d++)
                {
                    total += _kernel[d + radius] * _alongX[((y + d) * width) + x];
                }

                destination[(2 * ((y * width) + x)) + axis] = total * scale;
            }
        }
    }
}
