using SkiaSharp;

namespace MnistCnn.Samples.Web;

/// <summary>An 8-bit grey image (0 black .. 255 white, row-major, no padding) decoded from a PNG or JPEG file.</summary>
internal sealed record GreyImage(byte[] Pixels, int Width, int Height)
{
    /// <summary>
    /// Decodes a PNG or JPEG file to grey. The declared dimensions are checked against the limits before any
    /// pixel is decoded; transparent pixels count as white paper. Throws <see cref="RejectedImageException"/>
    /// for content that is not a PNG or JPEG, is damaged or truncated, or has too many pixels.
    /// </summary>
    public static GreyImage Decode(byte[] file, PredictionLimits limits)
    {
        using var data = SKData.CreateCopy(file);
        // SKCodec reads the header only: the dimensions are known here, nothing is decoded yet.
        using var codec = SKCodec.Create(data)
            ?? throw RejectedImageException.BadImage("The file is not a PNG or JPEG image.");
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

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var result = codec.GetPixels(info, out var rgba);
        if (result != SKCodecResult.Success)
        {
            throw RejectedImageException.BadImage(result == SKCodecResult.IncompleteInput
                ? $"The {codec.EncodedFormat} image is truncated: its data ends before its last row."
                : $"The {codec.EncodedFormat} image could not be decoded ({result}).");
        }

        return new GreyImage(ToGrey(rgba), width, height);
    }

    private static byte[] ToGrey(ReadOnlySpan<byte> rgba)
    {
        var grey = new byte[rgba.Length / 4];
        for (var i = 0; i < grey.Length; i++)
        {
            var pixel = rgba.Slice(i * 4, 4);
            // Rec. 601 luma in 8.8 fixed point, then composited over white by alpha.
            var luma = ((77 * pixel[0]) + (150 * pixel[1]) + (29 * pixel[2]) + 128) >> 8;
            var alpha = pixel[3];
            grey[i] = (byte)(((luma * alpha) + (255 * (255 - alpha)) + 127) / 255);
        }

        return grey;
    }
}
