namespace MnistCnn.Core.Data.Idx;

/// <summary>The images of an IDX image file: <see cref="Count"/> images of <see cref="Height"/> x <see cref="Width"/> bytes.</summary>
/// <remarks>
/// <see cref="Pixels"/> is the file's data as it is stored: row-major, image after image, one byte per pixel
/// (0 = background for MNIST). The instance does not copy it: whoever holds the array can change it.
/// </remarks>
public sealed class IdxImages
{
    /// <summary>Initializes a new instance over <paramref name="pixels"/> (not copied).</summary>
    /// <param name="pixels">Exactly <c>count * height * width</c> bytes.</param>
    /// <param name="count">The number of images; at least 1.</param>
    /// <param name="height">The number of rows of each image; at least 1.</param>
    /// <param name="width">The number of columns of each image; at least 1.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pixels"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="pixels"/> has another length than the sizes need.</exception>
    public IdxImages(byte[] pixels, int count, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        CheckSizes(pixels.LongLength, count, height, width, nameof(pixels));
        Pixels = pixels;
        Count = count;
        Height = height;
        Width = width;
    }

    /// <summary>Gets the number of images.</summary>
    public int Count { get; }

    /// <summary>Gets the number of rows of each image.</summary>
    public int Height { get; }

    /// <summary>Gets the number of columns of each image.</summary>
    public int Width { get; }

    /// <summary>Gets the pixels, row-major, image after image: <c>Count * Height * Width</c> bytes.</summary>
    public byte[] Pixels { get; }

    /// <summary>The rule of every image array: sizes at least 1, and exactly <c>count * height * width</c> bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    /// <exception cref="ArgumentException">The length is another than the sizes need.</exception>
    internal static void CheckSizes(long length, int count, int height, int width, string pixelsName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var expected = (long)count * height * width;
        if (length != expected)
        {
            throw new ArgumentException($"{count} images of {height}x{width} need {expected} bytes; got {length}.", pixelsName);
        }
    }
}
