namespace MnistCnn.Core.Data;

/// <summary>
/// torch's <c>affine_grid</c> + <c>grid_sample</c> (bilinear, zeros padding, <c>align_corners</c> false) for one
/// single-channel image, in managed float64 arithmetic that follows torch's CPU kernels operation by operation, so
/// the float32 results equal torch's bit for bit (tests compare them against torch on real and edge-case images).
/// </summary>
internal sealed class AffineSampler
{
    private readonly int _height;
    private readonly int _width;
    private readonly double[] _baseX;
    private readonly double[] _baseY;
    private readonly double[] _gridX;
    private readonly double[] _gridY;

    public AffineSampler(int height, int width)
    {
        (_height, _width) = (height, width);
        _baseX = BaseCoordinates(width);
        _baseY = BaseCoordinates(height);
        _gridX = new double[height * width];
        _gridY = new double[height * width];
    }

    /// <summary>
    /// Writes the transformed <paramref name="source"/> (<c>[H, W]</c> float32) to <paramref name="destination"/>.
    /// <paramref name="theta"/> is <c>affine_grid</c>'s 2×3 matrix; <paramref name="displacement"/>, when not empty,
    /// is added to the grid (<c>[H, W, 2]</c>, normalised units); <paramref name="background"/> is the value that
    /// stands for zero padding (pixels from outside the image take it).
    /// </summary>
    public void Sample(ReadOnlySpan<float> source, Span<float> destination, ReadOnlySpan<double> theta, ReadOnlySpan<double> displacement, float background)
    {
        var (height, width) = (_height, _width);
        var (t00, t01, t02, t10, t11, t12) = (theta[0], theta[1], theta[2], theta[3], theta[4], theta[5]);

        // affine_grid: base [x, y, 1] times theta transposed.
        for (var y = 0; y < height; y++)
        {
            var by = _baseY[y];
            for (var x = 0; x < width; x++)
            {
                var bx = _baseX[x];
                var k = (y * width) + x;
                _gridX[k] = (bx * t00) + (by * t01) + t02;
                _gridY[k] = (bx * t10) + (by * t11) + t12;
            }
        }

        if (!displacement.IsEmpty)
        {
            for (var k = 0; k < _gridX.Length; k++)
            {
                _gridX[k] += displacement[2 * k];
                _gridY[k] += displacement[(2 * k) + 1];
            }
        }

        // grid_sample on the input shifted so that the background is zero, then shifted back.
        double shift = background;
        var scaleX = (double)width / 2;
        var scaleY = (double)height / 2;
        for (var k = 0; k < _gridX.Length; k++)
        {
            var ix = ((_gridX[k] + 1) * scaleX) - 0.5;
            var iy = ((_gridY[k] + 1) * scaleY) - 0.5;
            var xw = Math.Floor(ix);
            var yn = Math.Floor(iy);
            var w = ix - xw;
            var e = 1 - w;
            var n = iy - yn;
            var s = 1 - n;
            var nw = s * e;
            var ne = s * w;
            var sw = n * e;
            var se = n * w;

            var (left, top) = ((int)xw, (int)yn);
            var nwValue = Pixel(source, top, left, shift);
            var neValue = Pixel(source, top, left + 1, shift);
            var swValue = Pixel(source, top + 1, left, shift);
            var seValue = Pixel(source, top + 1, left + 1, shift);
            var value = (nwValue * nw) + (neValue * ne) + (swValue * sw) + (seValue * se);
            destination[k] = (float)(shift == 0 ? value : value + shift);
        }
    }

    private double Pixel(ReadOnlySpan<float> source, int y, int x, double shift) =>
        (uint)x < (uint)_width && (uint)y < (uint)_height ? (shift == 0 ? source[(y * _width) + x] : source[(y * _width) + x] - shift) : 0;

    // linspace(-1, 1, n) * (n - 1) / n, as affine_grid builds it for align_corners false.
    private static double[] BaseCoordinates(int n)
    {
        var values = new double[n];
        if (n <= 1)
        {
            return values;
        }

        var step = 2.0 / (n - 1);
        var halfway = n / 2;
        for (var i = 0; i < n; i++)
        {
            var linear = i < halfway ? -1 + (step * i) : 1 - (step * (n - i - 1));
            values[i] = linear * (n - 1) / n;
        }

        return values;
    }
}
