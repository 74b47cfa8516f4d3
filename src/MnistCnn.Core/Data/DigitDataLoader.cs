using System.Collections;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Data;

/// <summary>
/// Splits an <see cref="IDigitDataset"/> into batches, in dataset order or in a seeded per-epoch random order.
/// </summary>
/// <remarks>
/// <para>Each batch is one slice (in order) or one gather (shuffled) from the dataset's contiguous storage.</para>
/// <para>
/// Ownership: every yielded <see cref="DigitBatch"/> belongs to the caller, who disposes it; when a
/// TorchSharp dispose scope is open while the batch is produced, the batch's tensors join that scope.
/// </para>
/// <para>
/// <see cref="GetBatches(int, long)"/> yields the batches of a given epoch; enumerating the loader itself yields
/// epoch <see cref="Epoch"/> and then advances it, so repeated <c>foreach</c> loops see new orders when
/// shuffling, as PyTorch's DataLoader does. The loader does not own the dataset.
/// </para>
/// </remarks>
public sealed class DigitDataLoader : IEnumerable<DigitBatch>
{
    /// <summary>Initializes a loader over <paramref name="dataset"/>.</summary>
    /// <param name="dataset">The dataset to batch; not owned by the loader.</param>
    /// <param name="options">Batch size and shuffling; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="dataset"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The dataset is empty, or smaller than one batch with <see cref="DigitDataLoaderOptions.DropLast"/>, or the
    /// augmentation's <see cref="DigitAugmentation.MinScale"/> is above its <see cref="DigitAugmentation.MaxScale"/>.
    /// </exception>
    public DigitDataLoader(IDigitDataset dataset, DigitDataLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Dataset = dataset;
        Options = options ?? new DigitDataLoaderOptions();
        if (dataset.Count < 1)
        {
            throw new ArgumentException("The dataset holds no images.", nameof(dataset));
        }

        if (Options.Augmentation is { } augmentation && augmentation.MinScale > augmentation.MaxScale)
        {
            throw new ArgumentException(
                $"The augmentation's MinScale ({augmentation.MinScale}) is above its MaxScale ({augmentation.MaxScale}).", nameof(options));
        }

        BatchCount = Options.DropLast
            ? dataset.Count / Options.BatchSize
            : (int)(((long)dataset.Count + Options.BatchSize - 1) / Options.BatchSize);
        if (BatchCount == 0)
        {
            throw new ArgumentException(
                $"With DropLast, the dataset's {dataset.Count} images make no batch of {Options.BatchSize}.", nameof(options));
        }
    }

    /// <summary>Gets the dataset the loader batches.</summary>
    public IDigitDataset Dataset { get; }

    /// <summary>Gets the loader's options.</summary>
    public DigitDataLoaderOptions Options { get; }

    /// <summary>Gets the number of batches in every epoch.</summary>
    public int BatchCount { get; }

    /// <summary>Gets the number of images in every epoch (fewer than the dataset's with drop-last).</summary>
    public int ImageCount => Options.DropLast ? BatchCount * Options.BatchSize : Dataset.Count;

    /// <summary>Gets or sets the epoch whose order the next enumeration of the loader itself uses.</summary>
    public int Epoch
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            field = value;
        }
    }

    /// <summary>
    /// Yields the batches of one epoch. With <see cref="DigitDataLoaderOptions.Shuffle"/>, the order depends only on
    /// (<paramref name="seed"/>, <paramref name="epoch"/>); without it, every epoch is in dataset order. With
    /// <see cref="DigitDataLoaderOptions.Augmentation"/>, each image's transform depends only on
    /// (<paramref name="seed"/>, <paramref name="epoch"/>, the image's dataset index).
    /// </summary>
    /// <param name="epoch">The zero-based epoch.</param>
    /// <param name="seed">The seed of the shuffled order and of the augmentation. Default: 0. A trainer passes
    /// <see cref="Training.TrainerOptions.Seed"/>.</param>
    /// <returns>The epoch's batches, on the CPU, each owned by the caller.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    public IEnumerable<DigitBatch> GetBatches(int epoch, long seed = 0) => GetBatches(epoch, seed, device: null);

    /// <summary>Yields the batches of epoch <see cref="Epoch"/> (shuffled and augmented, when enabled, with seed 0),
    /// then advances <see cref="Epoch"/>.</summary>
    /// <returns>An enumerator of batches, on the CPU, each owned by the caller.</returns>
    public IEnumerator<DigitBatch> GetEnumerator() => GetBatches(Epoch++).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Returns the image order of an epoch: a permutation of <c>[0, Dataset.Count)</c>.</summary>
    /// <param name="epoch">The zero-based epoch.</param>
    /// <param name="seed">The seed of the shuffled order (ignored without shuffling). Default: 0.</param>
    /// <returns>The dataset indices in the order the epoch visits them (before drop-last).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    public long[] GetOrder(int epoch, long seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var order = new long[Dataset.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        if (Options.Shuffle)
        {
            SeededShuffle.Shuffle(order, seed, epoch);
        }

        return order;
    }

    /// <summary>
    /// The batches of one epoch placed on <paramref name="device"/> (<see langword="null"/> for the CPU): for
    /// another device, the dataset moves the bytes and converts them there, a quarter of the float transfer.
    /// With <paramref name="augment"/> false (evaluation), <see cref="DigitDataLoaderOptions.Augmentation"/> is ignored.
    /// A <paramref name="batchSize"/> other than the loader's cuts the same <see cref="ImageCount"/> images, in the
    /// same order, into batches of that size (evaluation with larger batches).
    /// </summary>
    internal IEnumerable<DigitBatch> GetBatches(int epoch, long seed, Device? device, bool augment = true, int? batchSize = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var augmentation = augment ? Options.Augmentation : null;
        var size = batchSize ?? Options.BatchSize;
        return Options.Shuffle
            ? ShuffledBatches(GetOrder(epoch, seed), device, augmentation, seed, epoch, size)
            : OrderedBatches(device, augmentation, seed, epoch, size);
    }

    private IEnumerable<DigitBatch> OrderedBatches(Device? device, DigitAugmentation? augmentation, long seed, int epoch, int batchSize)
    {
        for (var start = 0; start < ImageCount; start += batchSize)
        {
            var count = Math.Min(batchSize, ImageCount - start);
            var batch = Dataset.GetBatch(start, count, device);
            if (augmentation is not null)
            {
                var indices = new long[count];
                for (var i = 0; i < count; i++)
                {
                    indices[i] = start + i;
                }

                batch = BatchAugmentation.Apply(batch, indices, augmentation, seed, epoch, Dataset.Normalization);
            }

            yield return batch;
        }
    }

    private IEnumerable<DigitBatch> ShuffledBatches(
        long[] epochOrder, Device? device, DigitAugmentation? augmentation, long seed, int epoch, int batchSize)
    {
        using var order = tensor(epochOrder, ScalarType.Int64).DetachFromDisposeScope();
        for (var start = 0; start < ImageCount; start += batchSize)
        {
            var count = Math.Min(batchSize, ImageCount - start);
            DigitBatch batch;
            using (var indices = order.narrow(0, start, count).DetachFromDisposeScope())
            {
                batch = Dataset.GetBatch(indices, device);
            }

            if (augmentation is not null)
            {
                batch = BatchAugmentation.Apply(batch, epochOrder.AsSpan(start, count), augmentation, seed, epoch, Dataset.Normalization);
            }

            yield return batch;
        }
    }
}
