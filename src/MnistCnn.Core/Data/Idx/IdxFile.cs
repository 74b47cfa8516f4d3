using System.Buffers.Binary;
using System.IO.Compression;

namespace MnistCnn.Core.Data.Idx;

/// <summary>
/// Reads and writes IDX files, the format of MNIST and of datasets built like it (Fashion-MNIST, KMNIST):
/// idx1 label files and idx3 image files of unsigned bytes, plain or gzip-compressed.
/// </summary>
/// <remarks>
/// <para>
/// An IDX file is a big-endian header (two zero bytes, the element type 0x08 = unsigned byte, the number of
/// dimensions, then each dimension as a 32-bit integer) followed by the data, row-major. Label files have
/// one dimension (the count), image files three (count, rows, columns).
/// </para>
/// <para>
/// Readers recognise gzip by its first two bytes (1F 8B), never by the file name. They check the header
/// against the file before allocating anything large: a plain file must hold exactly the declared bytes;
/// a gzip file must not declare more than its compressed size can expand to (1032 times, deflate's
/// limit), nor more than a .NET array can hold, and must decompress to exactly the declared bytes. Every
/// content error raises <see cref="IdxFormatException"/>; a missing file raises
/// <see cref="FileNotFoundException"/>; other I/O and permission errors pass through.
/// </para>
/// <para>
/// Writers are atomic: they write a temporary file in the destination's folder and rename it into place,
/// so a reader never sees a half-written file.
/// </para>
/// </remarks>
public static class IdxFile
{
    /// <summary>Reads an idx1 file of unsigned-byte labels.</summary>
    /// <param name="path">The file, plain or gzip-compressed.</param>
    /// <returns>The labels, one byte each, in file order.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IdxFormatException">The file is not a valid idx1 unsigned-byte file.</exception>
    public static byte[] ReadLabels(string path) => IdxReader.Read(path, IdxKind.Labels).Data;

    /// <summary>Reads an idx3 file of unsigned-byte images.</summary>
    /// <param name="path">The file, plain or gzip-compressed.</param>
    /// <returns>The images with their sizes.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IdxFormatException">The file is not a valid idx3 unsigned-byte file.</exception>
    public static IdxImages ReadImages(string path)
    {
        var (data, dimensions) = IdxReader.Read(path, IdxKind.Images);
        return new IdxImages(data, dimensions[0], dimensions[1], dimensions[2]);
    }

    /// <summary>Writes labels as an idx1 unsigned-byte file, replacing any existing file atomically.</summary>
    /// <param name="path">The destination; its folder is created if needed.</param>
    /// <param name="labels">The labels; at least one.</param>
    /// <param name="gzip">Whether to gzip-compress the file (the name is not changed or checked).</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty, or <paramref name="labels"/> is empty.</exception>
    public static void WriteLabels(string path, ReadOnlySpan<byte> labels, bool gzip = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (labels.IsEmpty)
        {
            throw new ArgumentException("An IDX file needs at least one label.", nameof(labels));
        }

        Write(path, [labels.Length], labels, gzip);
    }

    /// <summary>Writes images as an idx3 unsigned-byte file, replacing any existing file atomically.</summary>
    /// <param name="path">The destination; its folder is created if needed.</param>
    /// <param name="pixels">Row-major pixels, image after image: exactly <c>count * height * width</c> bytes.</param>
    /// <param name="count">The number of images; at least 1.</param>
    /// <param name="height">The number of rows of each image; at least 1.</param>
    /// <param name="width">The number of columns of each image; at least 1.</param>
    /// <param name="gzip">Whether to gzip-compress the file (the name is not changed or checked).</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty, or <paramref name="pixels"/> has
    /// another length than the sizes need.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public static void WriteImages(string path, ReadOnlySpan<byte> pixels, int count, int height, int width, bool gzip = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        IdxImages.CheckSizes(pixels.Length, count, height, width, nameof(pixels));
        Write(path, [count, height, width], pixels, gzip);
    }

    private static void Write(string path, ReadOnlySpan<int> dimensions, ReadOnlySpan<byte> data, bool gzip)
    {
        Span<byte> header = stackalloc byte[4 + (4 * dimensions.Length)];
        header[2] = IdxReader.UnsignedByte;
        header[3] = (byte)dimensions.Length;
        for (var i = 0; i < dimensions.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header[(4 + (4 * i))..], dimensions[i]);
        }

        // The header and data are copied once into the callback's buffer: spans cannot be captured.
        var contents = new byte[header.Length + data.Length];
        header.CopyTo(contents);
        data.CopyTo(contents.AsSpan(header.Length));
        AtomicFile.Write(path, file =>
        {
            if (gzip)
            {
                using var compressed = new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true);
                compressed.Write(contents);
            }
            else
            {
                file.Write(contents);
            }
        });
    }
}
