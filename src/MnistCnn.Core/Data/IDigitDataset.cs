using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Data;

/// <summary>
/// A labelled set of single-channel digit images of one size, such as a split of MNIST.
/// </summary>
/// <remarks>
/// Images are served as float32 tensors <c>[B, 1, H, W]</c> holding <c>pixel / 255</c> (as torchvision's
/// <c>ToTensor</c>), optionally normalised by <see cref="Normalization"/>; labels as int64 tensors <c>[B]</c>.
/// Implementations hold native memory and must be disposed.
/// </remarks>
public interface IDigitDataset : IDisposable
{
    /// <summary>Gets the number of images.</summary>
    int Count { get; }

    /// <summary>Gets the height of every image in pixels.</summary>
    int ImageHeight { get; }

    /// <summary>Gets the width of every image in pixels.</summary>
    int ImageWidth { get; }

    /// <summary>Gets the number of classes; every label is in <c>[0, ClassCount)</c>.</summary>
    int ClassCount { get; }

    /// <summary>Gets a display name for each class, indexed by label.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Gets the normalisation applied to scaled pixels, or <see langword="null"/> for none.</summary>
    PixelNormalization? Normalization { get; }

    /// <summary>Gets the label of the image at <paramref name="index"/>.</summary>
    /// <param name="index">The zero-based image index.</param>
    /// <returns>The label, in <c>[0, ClassCount)</c>.</returns>
    int GetLabel(int index);

    /// <summary>Extracts the images <c>[start, start + count)</c> as one batch.</summary>
    /// <param name="start">The index of the first image.</param>
    /// <param name="count">The number of images; at least 1.</param>
    /// <param name="device">The device of the returned tensors; <see langword="null"/> for the CPU.</param>
    /// <returns>A batch owned by the caller, who disposes it.</returns>
    DigitBatch GetBatch(int start, int count, Device? device = null);

    /// <summary>Extracts the images at the given indices, in that order, as one batch.</summary>
    /// <param name="indices">A one-dimensional int64 CPU tensor of image indices.</param>
    /// <param name="device">The device of the returned tensors; <see langword="null"/> for the CPU.</param>
    /// <returns>A batch owned by the caller, who disposes it.</returns>
    DigitBatch GetBatch(Tensor indices, Device? device = null);
}
