using System.Globalization;

namespace MnistCnn.Core.Data;

/// <summary>
/// Options of the random affine augmentation a <see cref="DigitDataLoader"/> applies to its batches when
/// <see cref="DigitDataLoaderOptions.Augmentation"/> is set: each image is shifted, rotated about its centre and
/// scaled by amounts drawn uniformly from the ranges below. Defaults suit 28×28 MNIST digits.
/// </summary>
/// <remarks>
/// <para>
/// The draws for an image depend only on the run's seed, the epoch and the image's index in the dataset (a
/// counter-based SplitMix64 generator, not torch's global generator), so an augmented epoch is the same on every
/// run, thread count and batch size, and a resumed run repeats the uninterrupted one.
/// </para>
/// <para>
/// The transform is torch's <c>affine_grid</c> + <c>grid_sample</c> (bilinear, zeros padding, <c>align_corners</c>
/// false; computed in float64 and returned as float32), applied to the pixels scaled to [0, 1] (before any
/// normalisation, in effect); pixels that come from outside the image are background (0 before normalisation).
/// Batches on the CPU are transformed in managed code that gives torch's pixels bit for bit; batches on another
/// device are transformed there by torch.
/// </para>
/// <para>
/// Elastic distortion (Simard, Steinkraus and Platt, 2003) is off by default; with <see cref="ElasticAlpha"/> above
/// zero, every output pixel's sampling position is also moved by a random displacement field: per pixel and axis a
/// uniform draw from [-1, 1] (from the same seeded stream), smoothed by a Gaussian of <see cref="ElasticSigma"/>
/// pixels (zeros beyond the edges) and multiplied by <see cref="ElasticAlpha"/> pixels.
/// </para>
/// </remarks>
public sealed record DigitAugmentation
{
    private readonly double _maxShift = 2;
    private readonly double _maxRotationDegrees = 10;
    private readonly double _minScale = 0.9;
    private readonly double _maxScale = 1.1;
    private readonly double _elasticAlpha;
    private readonly double _elasticSigma = 4;

    /// <summary>
    /// Gets the largest shift, in pixels, along each axis; each image's horizontal and vertical shifts are drawn
    /// independently from <c>[-MaxShift, MaxShift]</c> (fractional shifts are interpolated). Default: 2.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double MaxShift
    {
        get => _maxShift;
        init => _maxShift = NonNegative(value, nameof(MaxShift));
    }

    /// <summary>
    /// Gets the largest rotation, in degrees, either way about the image centre; each image's angle is drawn
    /// from <c>[-MaxRotationDegrees, MaxRotationDegrees]</c>. Default: 10.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, above 180, or not finite.</exception>
    public double MaxRotationDegrees
    {
        get => _maxRotationDegrees;
        init
        {
            NonNegative(value, nameof(MaxRotationDegrees));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 180, nameof(MaxRotationDegrees));
            _maxRotationDegrees = value;
        }
    }

    /// <summary>
    /// Gets the smallest scale factor (below 1 shrinks the digit); each image's factor is drawn from
    /// <c>[MinScale, MaxScale]</c>. Default: 0.9.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite or not greater than zero.</exception>
    /// <remarks><see cref="MinScale"/> above <see cref="MaxScale"/> is rejected when a loader is built with these options.</remarks>
    public double MinScale
    {
        get => _minScale;
        init => _minScale = Positive(value, nameof(MinScale));
    }

    /// <summary>Gets the largest scale factor (above 1 enlarges the digit). Default: 1.1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite or not greater than zero.</exception>
    /// <remarks><see cref="MinScale"/> above <see cref="MaxScale"/> is rejected when a loader is built with these options.</remarks>
    public double MaxScale
    {
        get => _maxScale;
        init => _maxScale = Positive(value, nameof(MaxScale));
    }

    /// <summary>
    /// Gets the strength of the elastic distortion: the factor, in pixels, applied to the smoothed random
    /// displacement field. Default: 0 (no elastic distortion). Simard et al. used 34 with a sigma of 4 on MNIST.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double ElasticAlpha
    {
        get => _elasticAlpha;
        init => _elasticAlpha = NonNegative(value, nameof(ElasticAlpha));
    }

    /// <summary>
    /// Gets the standard deviation, in pixels, of the Gaussian that smooths the elastic displacement field (larger
    /// is smoother); used only when <see cref="ElasticAlpha"/> is above zero. Default: 4.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not finite or not greater than zero.</exception>
    public double ElasticSigma
    {
        get => _elasticSigma;
        init => _elasticSigma = Positive(value, nameof(ElasticSigma));
    }

    /// <summary>The options as invariant text, recorded in training checkpoints to detect a changed setting.</summary>
    internal string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"shift {MaxShift:R} px, rotation {MaxRotationDegrees:R} deg, scale [{MinScale:R}, {MaxScale:R}], elastic alpha {ElasticAlpha:R} sigma " +
            $"{ElasticSigma:R}");

    private static double NonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number of at least zero.");
        }

        return value;
    }

    private static double Positive(double value, string name)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number greater than zero.");
        }

        return value;
    }
}
