using SkiaSharp;

namespace MnistCnn.Samples.Predict;

/// <summary>Decodes a PNG or JPEG file into 8-bit grey pixels, the input of <c>DigitClassifier.PredictImage</c>.</summary>
internal static class GreyImage
{
    /// <summary>Reads <paramref name="path"/>; throws <see cref="InvalidDataException"/> when it is not a PNG or JPEG image.</summary>
    public static (byte[] Pixels, int Width, int Height) Load(string path)
    {
        // SKCodec.Create answers null for content it cannot decode; SKBitmap.Decode would throw instead.
        using var stream = new SKMemoryStream(File.ReadAllBytes(path));
        using var codec = SKCodec.Create(stream) ?? throw new InvalidDataException($"{path} is not a PNG or JPEG image");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = SKBitmap.Decode(codec, info) ?? throw new InvalidDataException($"{path} could not be decoded as an image");
        var rgba = bitmap.GetPixelSpan();
        var rowBytes = bitmap.RowBytes;
        var grey = new byte[info.Width * info.Height];
        for (var y = 0; y < info.Height; y++)
        {
            for (var x = 0; x < info.Width; x++)
            {
                var p = (y * rowBytes) + (4 * x);
                var luminance = (0.299f * rgba[p]) + (0.587f * rgba[p + 1]) + (0.114f * rgba[p + 2]);
                // Transparent pixels show the page: composite over white.
                var alpha = rgba[p + 3] / 255f;
                grey[(y * info.Width) + x] = (byte)MathF.Round((luminance * alpha) + (255f * (1 - alpha)));
            }
        }

        return (grey, info.Width, info.Height);
    }
}
