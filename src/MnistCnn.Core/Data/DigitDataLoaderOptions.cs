namespace MnistCnn.Core.Data;

/// <summary>Options of a <see cref="DigitDataLoader"/>: how images are batched, whether they are shuffled, and whether
/// they are augmented. Defaults follow PyTorch's DataLoader and the case study.</summary>
/// <remarks>
/// The loader owns batching, shuffling and augmentation only. The seed of a shuffled order is given by whoever runs the epoch
/// (<see cref="Training.TrainerOptions.Seed"/> for a training run), and batches are placed on the device of the
/// run (<see cref="Training.TrainerOptions.Device"/>) or of the model being evaluated.
/// </remarks>
public sealed record DigitDataLoaderOptions
{
    private readonly int _batchSize = 64;

    /// <summary>Gets the number of images per batch. Default: 64.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int BatchSize
    {
        get => _batchSize;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(BatchSize));
            _batchSize = value;
        }
    }

    /// <summary>
    /// Gets whether each epoch visits the images in a new random order. Default: <see langword="false"/>
    /// (dataset order, as PyTorch's DataLoader and the case study).
    /// </summary>
    public bool Shuffle { get; init; }

    /// <summary>
    /// Gets whether a last batch smaller than <see cref="BatchSize"/> is dropped. Default: <see langword="false"/>.
    /// </summary>
    public bool DropLast { get; init; }

    /// <summary>
    /// Gets the random affine augmentation applied to every batch the loader yields, or <see langword="null"/> for
    /// none. Default: <see langword="null"/> (off, as the case study).
    /// </summary>
    /// <remarks>
    /// Each image's transform depends only on the epoch's seed (<see cref="Training.TrainerOptions.Seed"/> in a
    /// training run), the epoch and the image's index in the dataset. <see cref="Evaluation.Validator"/> never
    /// augments, even when given a loader with augmentation.
    /// </remarks>
    public DigitAugmentation? Augmentation { get; init; }
}
