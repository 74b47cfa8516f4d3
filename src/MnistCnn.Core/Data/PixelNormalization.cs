namespace MnistCnn.Core.Data;

/// <summary>
/// Per-pixel normalisation applied after scaling to [0, 1]: <c>(x - Mean) / StandardDeviation</c>,
/// as torchvision's <c>Normalize</c>.
/// </summary>
public sealed record PixelNormalization
{
    /// <summary>Initializes a normalisation.</summary>
    /// <param name="mean">The mean subtracted from every scaled pixel; finite.</param>
    /// <param name="standardDeviation">The divisor; finite and greater than zero.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is not finite, or the deviation is not positive.</exception>
    public PixelNormalization(float mean, float standardDeviation)
    {
        if (!float.IsFinite(mean))
        {
            throw new ArgumentOutOfRangeException(nameof(mean), mean, "The mean must be a finite number.");
        }

        if (!float.IsFinite(standardDeviation) || standardDeviation <= 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "The standard deviation must be finite and greater than zero.");
        }

        Mean = mean;
        StandardDeviation = standardDeviation;
    }

    /// <summary>Gets MNIST's training-set statistics: mean 0.1307, standard deviation 0.3081.</summary>
    public static PixelNormalization Mnist { get; } = new(0.1307f, 0.3081f);

    /// <summary>Gets the mean subtracted from every scaled pixel.</summary>
    public float Mean { get; }

    /// <summary>Gets the standard deviation every centred pixel is divided by.</summary>
    public float StandardDeviation { get; }
}
