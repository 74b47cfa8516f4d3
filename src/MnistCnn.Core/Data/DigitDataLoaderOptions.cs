using static TorchSharp.torch;

namespace MnistCnn.Core.Data;

/// <summary>Options of a <see cref="DigitDataLoader"/>. Defaults follow PyTorch's DataLoader and the case study.</summary>
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
    /// Gets the seed of the shuffled orders. Epoch <c>e</c>'s order depends only on (<see cref="Seed"/>, e),
    /// so runs repeat exactly. Default: 0.
    /// </summary>
    public long Seed { get; init; }

    /// <summary>Gets the device batches are placed on. Default: <see langword="null"/> (the CPU).</summary>
    public Device? Device { get; init; }
}
