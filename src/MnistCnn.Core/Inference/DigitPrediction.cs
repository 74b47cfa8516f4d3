using System.Globalization;

namespace MnistCnn.Core.Inference;

/// <summary>
/// What a <see cref="DigitClassifier"/> says about one image: the most probable digit, its probability,
/// the ten probabilities, and whether the image looks like a digit at all.
/// </summary>
/// <remarks>
/// Two predictions are equal when all four members are equal (the probabilities element by element).
/// </remarks>
public sealed record DigitPrediction
{
    internal DigitPrediction(int digit, float[] probabilities, bool isLikelyDigit)
    {
        Digit = digit;
        Confidence = probabilities[digit];
        Probabilities = Array.AsReadOnly(probabilities);
        IsLikelyDigit = isLikelyDigit;
    }

    /// <summary>Gets the most probable digit, 0-9 (the lowest one if two are equally probable). Always set, even for an image that is not a digit.</summary>
    public int Digit { get; }

    /// <summary>Gets the probability of <see cref="Digit"/>, in (0, 1]: the largest of <see cref="Probabilities"/>.</summary>
    public float Confidence { get; }

    /// <summary>Gets the probability of each digit 0-9 (index = digit): the softmax of the network's logits, summing to 1 up to rounding.</summary>
    public IReadOnlyList<float> Probabilities { get; }

    /// <summary>
    /// Gets whether the image's ink looks like an MNIST digit. <see langword="false"/> flags blank images,
    /// noise, and images with far less or far more ink than a digit or with ink spread to the border:
    /// the total ink (pixels scaled to [0, 1], summed) must lie between the 0.2% and 99.8% points of
    /// MNIST's training images, and the share of ink outside the central 20x20 box must not exceed its
    /// 99.8% point. It is decided from the image alone, so it is the same for every model; it says nothing
    /// about a digit-sized, centred drawing of something else (a letter, a shape). On MNIST's test digits it
    /// is <see langword="false"/> for under 1% of images. <see cref="Digit"/> is set either way.
    /// </summary>
    public bool IsLikelyDigit { get; }

    /// <inheritdoc/>
    public bool Equals(DigitPrediction? other) =>
        other is not null && Digit == other.Digit && Confidence.Equals(other.Confidence) &&
        IsLikelyDigit == other.IsLikelyDigit && Probabilities.SequenceEqual(other.Probabilities);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Digit, Confidence, IsLikelyDigit);

    /// <summary>Describes the prediction, e.g. <c>7 (98.1%)</c> or <c>1 (45.0%, not likely a digit)</c>.</summary>
    /// <returns>The digit and its confidence, in the invariant culture.</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Digit} ({Confidence:P1}{(IsLikelyDigit ? string.Empty : ", not likely a digit")})");
}
