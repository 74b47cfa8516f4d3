namespace MnistCnn.Core.Data;

/// <summary>Options of a digit dataset: its classes and the pixel normalisation of its batches.</summary>
public sealed record DigitDatasetOptions
{
    private readonly int _classCount = 10;
    private readonly string[]? _classNames;

    /// <summary>Gets the number of classes. Default: 10 (digits 0-9).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1 or above 256 (labels are bytes).</exception>
    public int ClassCount
    {
        get => _classCount;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 256);
            _classCount = value;
        }
    }

    /// <summary>
    /// Gets a display name per class, indexed by label, or <see langword="null"/> (the default) for the
    /// labels' numbers ("0", "1", ...). Must hold exactly <see cref="ClassCount"/> names when set.
    /// </summary>
    public IReadOnlyList<string>? ClassNames
    {
        get => _classNames;
        init => _classNames = value?.ToArray();
    }

    /// <summary>Gets the normalisation applied to scaled pixels. Default: <see langword="null"/> (pixels stay in [0, 1]).</summary>
    public PixelNormalization? Normalization { get; init; }

    /// <summary>Gets the default options: 10 classes named "0" to "9", no normalisation.</summary>
    public static DigitDatasetOptions Default { get; } = new();

    /// <summary>
    /// Gets options for Fashion-MNIST: 10 classes named "T-shirt/top", "Trouser", "Pullover", "Dress",
    /// "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" (labels 0-9), no normalisation.
    /// </summary>
    public static DigitDatasetOptions FashionMnist { get; } = new()
    {
        ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    };

    /// <summary>
    /// Gets options for KMNIST (Kuzushiji-MNIST): 10 classes named by the romanised hiragana "o", "ki",
    /// "su", "tsu", "na", "ha", "ma", "ya", "re", "wo" (labels 0-9), no normalisation.
    /// </summary>
    public static DigitDatasetOptions KMnist { get; } = new()
    {
        ClassNames = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
    };

    internal IReadOnlyList<string> ResolveClassNames()
    {
        if (_classNames is null)
        {
            return Enumerable.Range(0, ClassCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }

        if (_classNames.Length != ClassCount)
        {
            throw new ArgumentException($"ClassNames holds {_classNames.Length} names but ClassCount is {ClassCount}.", nameof(ClassNames));
        }

        return _classNames;
    }
}
