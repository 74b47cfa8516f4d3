using System.Runtime.InteropServices;
using MnistCnn.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Data;

/// <summary>
/// A digit dataset held in memory as one contiguous uint8 tensor <c>[N, 1, H, W]</c> plus one int64 label
/// tensor <c>[N]</c>; batches are gathered from them and scaled on demand.
/// </summary>
/// <remarks>
/// <para>
/// Keeping raw bytes (not floats) makes a split cost its file size in memory; the float conversion happens
/// per batch. The image tensor's storage is a pinned managed array, so CPU batches are gathered and scaled
/// by vectorised managed code straight into the batch's tensors: one allocation per tensor and no torch
/// intra-op threading, whose synchronisation costs more than batch-sized work (much more on a busy
/// machine). Batches for another device gather bytes with torch, move them, and convert on that device
/// (a quarter of the transfer). Both ways give the same values, bit for bit.
/// </para>
/// <para>The tensors live outside any dispose scope and are released by <see cref="Dispose"/>.</para>
/// </remarks>
public sealed class DigitDataset : IDigitDataset
{
    private readonly byte[] _pixels;
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private readonly byte[] _labelBytes;
    private readonly int _imageSize;
    private bool _disposed;

    /// <summary>Initializes a dataset from raw pixels and labels.</summary>
    /// <param name="pixels">Row-major pixels, <c>labels.Length * imageHeight * imageWidth</c> bytes, image after image.</param>
    /// <param name="labels">One label per image, each below the class count.</param>
    /// <param name="imageHeight">The image height in pixels; at least 1.</param>
    /// <param name="imageWidth">The image width in pixels; at least 1.</param>
    /// <param name="options">Classes and normalisation; <see langword="null"/> for <see cref="DigitDatasetOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException">An array is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1.</exception>
    /// <exception cref="ArgumentException">The sizes do not agree, there are no images, or a label is out of range.</exception>
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process (no backend package, a C++
    /// runtime older than GCC 13's, ...); the message names the cause and the fix.</exception>
    public DigitDataset(byte[] pixels, byte[] labels, int imageHeight, int imageWidth, DigitDatasetOptions? options = null)
        : this(pixels, labels, imageHeight, imageWidth, options, adoptPixels: false)
    {
    }

    /// <summary>Initializes a dataset; with <paramref name="adoptPixels"/> the dataset stores <paramref name="pixels"/> itself instead of a copy.</summary>
    /// <remarks>Adopting halves the peak memory of a load; only callers that hand over an array nobody else holds (such
    /// as <see cref="MnistDataset"/>) may adopt.</remarks>
    internal DigitDataset(byte[] pixels, byte[] labels, int imageHeight, int imageWidth, DigitDatasetOptions? options, bool adoptPixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageWidth, 1);
        TorchRuntime.EnsureAvailable();
        options ??= DigitDatasetOptions.Default;
        if (labels.Length == 0)
        {
            throw new ArgumentException("A dataset needs at least one image.", nameof(labels));
        }

        var expectedPixels = (long)labels.Length * imageHeight * imageWidth;
        if (pixels.LongLength != expectedPixels)
        {
            throw new ArgumentException(
                $"{labels.Length} images of {imageHeight}x{imageWidth} need {expectedPixels} pixel bytes; got {pixels.LongLength}.",
                nameof(pixels));
        }

        var classCount = options.ClassCount;
        var badLabel = Array.FindIndex(labels, l => l >= classCount);
        if (badLabel >= 0)
        {
            throw new ArgumentException($"Label {labels[badLabel]} at index {badLabel} is not below the class count {classCount}.", nameof(labels));
        }

        ClassNames = options.ResolveClassNames();
        Normalization = options.Normalization;
        ClassCount = classCount;
        Count = labels.Length;
        ImageHeight = imageHeight;
        ImageWidth = imageWidth;
        _imageSize = imageHeight * imageWidth;
        _labelBytes = (byte[])labels.Clone();
        _pixels = adoptPixels ? pixels : (byte[])pixels.Clone();

        // Long-lived: detached from any scope the caller may have open, released by Dispose(). The image
        // tensor shares (and pins) _pixels, which the CPU path reads directly.
        using var scope = NewDisposeScope();
        _images = frombuffer(_pixels, ScalarType.Byte).view(Count, 1, imageHeight, imageWidth).DetachFromDisposeScope();
        _labels = tensor(labels, [Count], ScalarType.Byte).to(ScalarType.Int64).DetachFromDisposeScope();
    }

    /// <inheritdoc/>
    public int Count { get; }

    /// <summary>Gets a value indicating whether the images are a test split (<see cref="MnistDataset.Load"/> with
    /// <see cref="MnistSplit.Test"/>); the trainer warns when model selection monitors one.</summary>
    internal bool IsTestSplit { get; init; }

    /// <inheritdoc/>
    public int ImageHeight { get; }

    /// <inheritdoc/>
    public int ImageWidth { get; }

    /// <inheritdoc/>
    public int ClassCount { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc/>
    public PixelNormalization? Normalization { get; }

    /// <inheritdoc/>
    public int GetLabel(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _labelBytes[index];
    }

    /// <inheritdoc/>
    public DigitBatch GetBatch(int start, int count, Device? device = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if ((long)start + count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Images [{start}, {(long)start + count}) exceed the dataset's {Count} images.");
        }

        if (IsCpu(device))
        {
            var (images, labels) = NewCpuBatch(count);
            var pixels = MemoryMarshal.Cast<byte, float>(images.bytes);
            var labelValues = MemoryMarshal.Cast<byte, long>(labels.bytes);
            PixelScaler.Scale(_pixels.AsSpan(start * _imageSize, count * _imageSize), pixels, Normalization);
            for (var i = 0; i < count; i++)
            {
                labelValues[i] = _labelBytes[start + i];
            }

            return new DigitBatch(images, labels);
        }

        using var scope = NewDisposeScope();
        return ToBatch(_images.narrow(0, start, count), _labels.narrow(0, start, count), device, scope);
    }

    /// <inheritdoc/>
    public DigitBatch GetBatch(Tensor indices, Device? device = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.dim() != 1 || indices.dtype != ScalarType.Int64 || indices.device_type != DeviceType.CPU)
        {
            throw new ArgumentException($"Indices must be a one-dimensional int64 CPU tensor; got {indices.dtype} [{string.Join(", ", indices.shape)}] on " +
                $"{indices.device}.", nameof(indices));
        }

        if (indices.size(0) < 1)
        {
            throw new ArgumentException("Indices must select at least one image.", nameof(indices));
        }

        if (IsCpu(device))
        {
            var selected = indices.data<long>().ToArray();
            foreach (var index in selected)
            {
                if ((ulong)index >= (ulong)Count)
                {
                    throw new ArgumentOutOfRangeException(nameof(indices), index, $"Index {index} is outside the dataset's {Count} images.");
                }
            }

            var (images, labels) = NewCpuBatch(selected.Length);
            var pixels = MemoryMarshal.Cast<byte, float>(images.bytes);
            var labelValues = MemoryMarshal.Cast<byte, long>(labels.bytes);
            for (var i = 0; i < selected.Length; i++)
            {
                var index = (int)selected[i];
                PixelScaler.Scale(_pixels.AsSpan(index * _imageSize, _imageSize), pixels.Slice(i * _imageSize, _imageSize), Normalization);
                labelValues[i] = _labelBytes[index];
            }

            return new DigitBatch(images, labels);
        }

        using var scope = NewDisposeScope();
        return ToBatch(_images.index_select(0, indices), _labels.index_select(0, indices), device, scope);
    }

    /// <summary>
    /// Splits the dataset into a training part and a held-out validation part, stratified by class: every class
    /// gives <c>round(fraction × its count)</c> of its images (rounded half to even) to the validation part, chosen
    /// at random by <paramref name="seed"/>, so both parts keep the class proportions of the whole.
    /// </summary>
    /// <remarks>
    /// Use the validation part for model selection (<see cref="Training.BestModelCheckpoint"/>,
    /// <see cref="Training.EarlyStopping"/>) and keep the test split for the final figure. The choice depends only on
    /// the labels, the fraction and the seed: the same on every platform and .NET version. Within each part the
    /// images keep their original order. The parts are new datasets holding copies of their images, with this
    /// dataset's class names and normalisation; the caller disposes them, and this dataset stays usable.
    /// </remarks>
    /// <param name="validationFraction">The share of each class held out, in (0, 1); 1/12 gives MNIST's usual 55,000/5,000 split.</param>
    /// <param name="seed">Chooses which images are held out.</param>
    /// <returns>The training part and the validation part.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is not in (0, 1).</exception>
    /// <exception cref="ArgumentException">The fraction leaves one of the parts empty.</exception>
    /// <exception cref="ObjectDisposedException">The dataset was disposed.</exception>
    public (DigitDataset Train, DigitDataset Validation) Split(double validationFraction, long seed)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction,
                "The validation fraction must be greater than 0 and less than 1.");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        var held = new bool[Count];
        for (var label = 0; label < ClassCount; label++)
        {
            var members = Enumerable.Range(0, Count).Where(i => _labelBytes[i] == label).Select(i => (long)i).ToArray();
            var take = (int)Math.Round(members.Length * validationFraction, MidpointRounding.ToEven);
            SeededShuffle.Shuffle(members, seed, label);
            foreach (var index in members.AsSpan(0, take))
            {
                held[index] = true;
            }
        }

        var validationCount = held.Count(h => h);
        if (validationCount == 0 || validationCount == Count)
        {
            throw new ArgumentException(
                $"A validation fraction of {validationFraction} of {Count} images leaves the {(validationCount == 0 ? "validation" : "training")} part empty.",
                nameof(validationFraction));
        }

        return (Subset(held, keep: false), Subset(held, keep: true));
    }

    private DigitDataset Subset(bool[] held, bool keep)
    {
        var indices = Enumerable.Range(0, Count).Where(i => held[i] == keep).ToArray();
        var pixels = new byte[(long)indices.Length * _imageSize];
        var labels = new byte[indices.Length];
        for (var k = 0; k < indices.Length; k++)
        {
            _pixels.AsSpan(indices[k] * _imageSize, _imageSize).CopyTo(pixels.AsSpan(k * _imageSize, _imageSize));
            labels[k] = _labelBytes[indices[k]];
        }

        var options = new DigitDatasetOptions { ClassCount = ClassCount, ClassNames = ClassNames, Normalization = Normalization };
        // A part of a test split is still test data: selecting a model on it earns the trainer's warning too.
        return new DigitDataset(pixels, labels, ImageHeight, ImageWidth, options, adoptPixels: true) { IsTestSplit = IsTestSplit };
    }

    /// <summary>Releases the dataset's tensors.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _images.Dispose();
        _labels.Dispose();
    }

    private static bool IsCpu(Device? device) => device is null || device.type == DeviceType.CPU;

    /// <summary>
    /// Allocates a CPU batch's tensors, to be filled through <see cref="Tensor.bytes"/> (a view of their
    /// memory). They join the caller's dispose scope if one is open, like every tensor torch creates.
    /// </summary>
    private (Tensor Images, Tensor Labels) NewCpuBatch(int count) =>
        (empty([count, 1, ImageHeight, ImageWidth], ScalarType.Float32), empty([count], ScalarType.Int64));

    private DigitBatch ToBatch(Tensor pixels, Tensor labels, Device? device, DisposeScope scope)
    {
        if (device is not null && device.type != DeviceType.CPU)
        {
            // Move bytes, not floats: a quarter of the transfer.
            pixels = pixels.to(device);
            labels = labels.to(device);
        }

        // Division (not multiplication by 1/255) reproduces ToTensor's values bit for bit.
        var images = pixels.to_type(ScalarType.Float32).div_(255f);
        if (Normalization is { } n)
        {
            images.sub_(n.Mean).div_(n.StandardDeviation);
        }

        // A narrowed label view would share the dataset's storage; a copy keeps the batch independent.
        labels = labels.clone();
        // Moved to the caller's scope if one is open (one scope per training step), else detached.
        scope.MoveToOuter(images, labels);
        return new DigitBatch(images, labels);
    }
}
