using MnistCnn.Core.Data.Idx;
using System.Buffers.Binary;
using System.Text;
using MnistCnn.Core.Data;
using SkiaSharp;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>Image files for the API tests: real MNIST test digits, and files built to be refused.</summary>
internal static class TestImages
{
    private static readonly Lazy<(IdxImages Images, byte[] Labels)> MnistTest = new(() =>
    {
        var folder = Repository.MnistFolder;
        var images = Path.Combine(folder, "t10k-images-idx3-ubyte");
        if (!File.Exists(images))
        {
            throw new InvalidOperationException($"{images} is missing: run ./build.sh data (./build.sh web-test does) or set MNISTCNN_DATA_DIR.");
        }

        return (IdxFile.ReadImages(images), IdxFile.ReadLabels(Path.Combine(folder, "t10k-labels-idx1-ubyte")));
    });

    /// <summary>The MNIST test digit at <paramref name="index"/>: 784 pixels (light ink on black) and its label.</summary>
    public static (byte[] Pixels, int Label) MnistDigit(int index)
    {
        var (images, labels) = MnistTest.Value;
        const int Pixels = 28 * 28;
        return (images.Pixels.AsSpan(index * Pixels, Pixels).ToArray(), labels[index]);
    }

    /// <summary>A 28x28 grey PNG of the pixels, as MNIST shows them.</summary>
    public static byte[] Png(byte[] pixels) => Encode(Grey(pixels, 28, 28), SKEncodedImageFormat.Png, 100);

    /// <summary>A 28x28 WebP of the pixels (lossless).</summary>
    public static byte[] WebP(byte[] pixels) => Encode(Grey(pixels, 28, 28), SKEncodedImageFormat.Webp, 100);

    /// <summary>
    /// The digit as on paper: dark ink on an off-white page, enlarged 5x (bilinear), placed off-centre on a
    /// 200x180 page, as a JPEG of quality 85.
    /// </summary>
    public static byte[] PaperJpeg(byte[] pixels)
    {
        var inverted = pixels.Select(p => (byte)(235 - (p * 215 / 255))).ToArray();
        using var digit = Grey(inverted, 28, 28);
        using var page = new SKBitmap(new SKImageInfo(200, 180, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(page))
        {
            canvas.Clear(new SKColor(235, 235, 235));
            using var image = SKImage.FromBitmap(digit);
            canvas.DrawImage(image, SKRect.Create(30, 20, 140, 140), new SKSamplingOptions(SKFilterMode.Linear));
        }

        return Encode(page, SKEncodedImageFormat.Jpeg, 85);
    }

    /// <summary>A <paramref name="side"/> x <paramref name="side"/> PNG of random grey noise (large: noise does not compress).</summary>
    public static byte[] NoisePng(int side, int seed)
    {
        var pixels = new byte[side * side];
        new Random(seed).NextBytes(pixels);
        return Encode(Grey(pixels, side, side), SKEncodedImageFormat.Png, 100);
    }

    /// <summary>
    /// A well-formed PNG header declaring <paramref name="width"/> x <paramref name="height"/> grey pixels,
    /// followed by a tiny image data chunk and the end chunk: decoding it in full would need
    /// width x height bytes.
    /// </summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;   // bit depth; colour type 0 (grey), deflate, no filter method, no interlace follow as zeros
        Chunk(file, "IHDR", header);
        Chunk(file, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(file, "IEND", []);
        return file.ToArray();
    }

    /// <summary>
    /// A real 16x16 baseline JPEG whose frame header (SOF0) is rewritten to declare <paramref name="width"/> x
    /// <paramref name="height"/> pixels (each at most 65,535, JPEG's limit): its header reads as that size.
    /// </summary>
    public static byte[] JpegDeclaring(int width, int height)
    {
        using var small = Grey(new byte[16 * 16], 16, 16);
        var jpeg = Encode(small, SKEncodedImageFormat.Jpeg, 80);
        for (var i = 2; i + 8 < jpeg.Length; i++)
        {
            // SOF0: FF C0, length (2), precision (1), height (2), width (2), all big-endian.
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0)
            {
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 5), checked((ushort)height));
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 7), checked((ushort)width));
                return jpeg;
            }
        }

        throw new InvalidOperationException("The encoded JPEG has no baseline frame header (SOF0).");
    }

    /// <summary>
    /// A valid <paramref name="side"/> x <paramref name="side"/> all-black grey PNG: a few kilobytes that
    /// decode to side x side pixels (a decompression bomb that is within the limits when the side is).
    /// </summary>
    public static byte[] BlankPng(int side)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(side, side, SKColorType.Gray8, SKAlphaType.Opaque));
        bitmap.Erase(SKColors.Black);
        return Encode(bitmap, SKEncodedImageFormat.Png, 100);
    }

    private static void Chunk(Stream file, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        file.Write(number);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        file.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(number, Crc32(typeAndData));
        file.Write(number);
    }

    // PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), computed bit by bit: the files are tiny.
    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    private static SKBitmap Grey(byte[] pixels, int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        return bitmap;
    }

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality)
    {
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }
}
