using static TorchSharp.torch;

namespace MnistCnn.Core.Data;

/// <summary>A batch of images and their labels.</summary>
/// <remarks>The batch owns both tensors: disposing the batch disposes them.</remarks>
public sealed class DigitBatch : IDisposable
{
    /// <summary>Initializes a new batch that takes ownership of <paramref name="images"/> and <paramref name="labels"/>.</summary>
    /// <param name="images">Float32 images <c>[B, 1, H, W]</c>.</param>
    /// <param name="labels">Int64 labels <c>[B]</c>.</param>
    /// <exception cref="ArgumentException">The tensors' shapes or types do not fit together.</exception>
    public DigitBatch(Tensor images, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.dim() != 4 || images.size(1) != 1)
        {
            throw new ArgumentException($"Images must have shape [B, 1, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        }

        if (labels.dim() != 1 || labels.size(0) != images.size(0))
        {
            throw new ArgumentException($"Labels must have shape [{images.shape[0]}]; got [{string.Join(", ", labels.shape)}].", nameof(labels));
        }

        if (labels.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"Labels must be int64; got {labels.dtype}.", nameof(labels));
        }

        Images = images;
        Labels = labels;
    }

    /// <summary>Gets the images, float32 <c>[B, 1, H, W]</c>.</summary>
    public Tensor Images { get; }

    /// <summary>Gets the labels, int64 <c>[B]</c>.</summary>
    public Tensor Labels { get; }

    /// <summary>Gets the number of images in the batch.</summary>
    public int Count => (int)Labels.size(0);

    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
