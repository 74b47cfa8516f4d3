using SkiaSharp;

namespace MnistCnn.Samples.Web;

/// <summary>
/// An 8-bit grey image (0 black .. 255 white, row-major, no padding) decoded from a PNG or JPEG file, in native
/// memory that <see cref="Dispose"/> frees at once: a large image leaves no large array behind for the GC.
/// </summary>
internal sealed class GreyImage : IDisposable
{
    // The decoder's RGBA pixels, turned to grey in place: the first Width x Height bytes are the image.
    private readonly SKBitmap _bitmap;

    private GreyImage(SKBitmap bitmap, int width, int height) => (_bitmap, Width, Height) = (bitmap, width, height);

    /// <summary>Gets the width in pixels.</summary>
    public int Width { get; }

    /// <summary>Gets the height in pixels.</summary>
    public int Height { get; }

    /// <summary>Gets the grey pixels, valid until the image is disposed.</summary>
    public ReadOnlySpan<byte> Pixels => _bitmap.GetPixelSpan()[..(Width * Height)];

    /// <summary>
    /// Reads a PNG or JPEG file's header and checks its dimensions against the limits, decoding no pixel;
    /// returns its pixel count. Throws <see cref="RejectedImageException"/> as <see cref="Decode"/> does for
    /// content that is not a PNG or JPEG or has too many pixels.
    /// </summary>
    public static long CheckHeader(byte[] file, PredictionLimits limits)
    {
        // A stream over the array: the header is read without copying the file.
        using var stream = new SKManagedStream(new MemoryStream(file, writable: false), disposeManagedStream: true);
        using var codec = OpenCodec(SKCodec.Create(stream), limits);
        return (long)codec.Info.Width * codec.Info.Height;
    }

    /// <summary>
    /// Decodes a PNG or JPEG file to grey. The declared dimensions are checked against the limits before any
    /// pixel is decoded; transparent pixels count as white paper. Throws <see cref="RejectedImageException"/>
    /// for content that is not a PNG or JPEG, is damaged or truncated, or has too many pixels. Memory: 4 bytes
    /// a pixel (the decoder's RGBA, native, kept as the grey image until disposed) and a copy of the file.
    /// </summary>
    public static GreyImage Decode(byte[] file, PredictionLimits limits)
    {
        using var data = SKData.CreateCopy(file);
        using var codec = OpenCodec(SKCodec.Create(data), limits);
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        // Native pixels, freed on dispose: a large image leaves no large managed array behind for the GC.
        var rgba = new SKBitmap();
        try
        {
            if (!rgba.TryAllocPixels(info))
            {
                throw new InsufficientMemoryException($"Could not allocate {(long)width * height * 4:N0} bytes to decode a {width} x {height} image.");
            }

            var result = codec.GetPixels(info, rgba.GetPixels());
            if (result != SKCodecResult.Success)
            {
                throw RejectedImageException.BadImage(result == SKCodecResult.IncompleteInput
                    ? $"The {codec.EncodedFormat} image is truncated: its data ends before its last row."
                    : $"The {codec.EncodedFormat} image could not be decoded ({result}).");
            }

            ToGreyInPlace(rgba.GetPixelSpan());
            return new GreyImage(rgba, width, height);
        }
        catch
        {
            rgba.Dispose();
            throw;
        }
    }

    public void Dispose() => _bitmap.Dispose();

    private static SKCodec OpenCodec(SKCodec? codec, PredictionLimits limits)
    {
        // SKCodec reads the header only: the dimensions are known here, nothing is decoded yet.
        if (codec is null)
        {
            throw RejectedImageException.BadImage("The file is not a PNG or JPEG image.");
        }

        try
        {
            if (codec.EncodedFormat is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg))
            {
                throw RejectedImageException.Unsupported($"The file is a {codec.EncodedFormat} image; only PNG and JPEG are accepted.");
            }

            var (width, height) = (codec.Info.Width, codec.Info.Height);
            if (width > limits.MaxSide || height > limits.MaxSide || (long)width * height > limits.MaxPixels)
            {
                throw RejectedImageException.TooManyPixels(
                    $"The image is {width} x {height} pixels; the limits are {limits.MaxSide} pixels a side and {limits.MaxPixels:N0} pixels in all.");
            }

            return codec;
        }
        catch
        {
            codec.Dispose();
            throw;
        }
    }

    // Pixel i's grey byte goes to index i, at or before the pixel's own 4 bytes (index 4i), which were read
    // just before: so the conversion runs in place, front to back.
    private static void ToGreyInPlace(Span<byte> rgba)
    {
        var count = rgba.Length / 4;
        for (var i = 0; i < count; i++)
        {
            var pixel = rgba.Slice(i * 4, 4);
            // Rec. 601 luma in 8.8 fixed point, then composited over white by alpha.
            var luma = ((77 * pixel[0]) + (150 * pixel[1]) + (29 * pixel[2]) + 128) >> 8;
            var alpha = pixel[3];
            rgba[i] = (byte)(((luma * alpha) + (255 * (255 - alpha)) + 127) / 255);
        }
    }
}
