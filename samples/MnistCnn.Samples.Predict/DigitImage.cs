using SkiaSharp;

namespace MnistCnn.Samples.Predict;

/// <summary>
/// Turns an image file into a 28x28 MNIST-style digit: grey, light ink on black, the digit scaled into a
/// 20x20 box and placed so that its centre of mass is the image's centre, as the MNIST digits were made.
/// </summary>
internal static class DigitImage
{
    public const int Size = 28;
    private const int Box = 20;

    /// <summary>Reads and prepares a PNG or JPEG file; throws <see cref="InvalidDataException"/> for anything else.</summary>
    public static byte[] Load(string path)
    {
        // SKCodec.Create answers null for content it cannot decode; SKBitmap.Decode would throw instead.
        using var stream = new SKMemoryStream(File.ReadAllBytes(path));
        using var codec = SKCodec.Create(stream)
            ?? throw new InvalidDataException($"{path} is not a PNG or JPEG image");
        using var bitmap = SKBitmap.Decode(codec)
            ?? throw new InvalidDataException($"{path} could not be decoded as an image");
        var (grey, width, height) = ToGrey(bitmap);
        return Prepare(grey, width, height, path);
    }

    /// <summary>
    /// Prepares grey pixels (0 black .. 255 white, row-major). An image that is already 28x28 light-on-dark
    /// is taken as prepared (MNIST's own digits pass through unchanged); dark-on-light images are inverted.
    /// </summary>
    public static byte[] Prepare(float[] grey, int width, int height, string source)
    {
        // MNIST ink is light on a black background: judge the background by the border's mean.
        if (BorderMean(grey, width, height) > 127)
        {
            for (var i = 0; i < grey.Length; i++)
            {
                grey[i] = 255 - grey[i];
            }
        }

        if (width == Size && height == Size)
        {
            return grey.Select(v => (byte)Math.Clamp(MathF.Round(v), 0, 255)).ToArray();
        }

        // MNIST's background is 0 and its strokes reach 255: map the paper's level to 0 and the darkest ink to 255.
        var (background, ink) = (BorderMean(grey, width, height), grey.Max());
        if (ink - background < 1)
        {
            throw new InvalidDataException($"{source} shows no digit (the image is blank)");
        }

        for (var i = 0; i < grey.Length; i++)
        {
            grey[i] = Math.Clamp((grey[i] - background) * 255 / (ink - background), 0, 255);
        }

        var (left, top, right, bottom) = InkBounds(grey, width, height)
            ?? throw new InvalidDataException($"{source} shows no digit (the image is blank)");
        var (cropWidth, cropHeight) = (right - left + 1, bottom - top + 1);
        var scale = (float)Box / Math.Max(cropWidth, cropHeight);
        var (boxWidth, boxHeight) = (Math.Max(1, (int)MathF.Round(cropWidth * scale)), Math.Max(1, (int)MathF.Round(cropHeight * scale)));
        var box = Resample(grey, width, left, top, cropWidth, cropHeight, boxWidth, boxHeight);

        // Place the box so that its centre of mass lands on the centre of the 28x28 field.
        var (massX, massY) = CentreOfMass(box, boxWidth, boxHeight);
        var offsetX = (int)MathF.Round((Size / 2f) - massX);
        var offsetY = (int)MathF.Round((Size / 2f) - massY);
        var digit = new byte[Size * Size];
        for (var y = 0; y < boxHeight; y++)
        {
            for (var x = 0; x < boxWidth; x++)
            {
                var (tx, ty) = (x + offsetX, y + offsetY);
                if (tx is >= 0 and < Size && ty is >= 0 and < Size)
                {
                    digit[(ty * Size) + tx] = (byte)Math.Clamp(MathF.Round(box[(y * boxWidth) + x]), 0, 255);
                }
            }
        }

        return digit;
    }

    private static (float[] Grey, int Width, int Height) ToGrey(SKBitmap bitmap)
    {
        var (width, height) = (bitmap.Width, bitmap.Height);
        var grey = new float[width * height];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                var luminance = (0.299f * c.Red) + (0.587f * c.Green) + (0.114f * c.Blue);
                // Transparent pixels show the page: composite over white.
                var alpha = c.Alpha / 255f;
                grey[(y * width) + x] = (luminance * alpha) + (255 * (1 - alpha));
            }
        }

        return (grey, width, height);
    }

    private static float BorderMean(float[] grey, int width, int height)
    {
        var (sum, count) = (0.0, 0);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                if (x == 0 || y == 0 || x == width - 1 || y == height - 1)
                {
                    sum += grey[(y * width) + x];
                    count++;
                }
            }
        }

        return (float)(sum / count);
    }

    private static (int Left, int Top, int Right, int Bottom)? InkBounds(float[] grey, int width, int height)
    {
        // Faint noise (JPEG artefacts, paper texture) is not ink; the anti-aliased edges of strokes are.
        const float threshold = 24f;
        var (left, top, right, bottom) = (width, height, -1, -1);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                if (grey[(y * width) + x] >= threshold)
                {
                    (left, top) = (Math.Min(left, x), Math.Min(top, y));
                    (right, bottom) = (Math.Max(right, x), Math.Max(bottom, y));
                }
            }
        }

        return right < 0 ? null : (left, top, right, bottom);
    }

    /// <summary>Area-averaging resample of a crop: each target pixel averages a grid of bilinear samples of its footprint.</summary>
    private static float[] Resample(float[] grey, int stride, int left, int top, int cropWidth, int cropHeight, int width, int height)
    {
        var result = new float[width * height];
        var (stepX, stepY) = ((float)cropWidth / width, (float)cropHeight / height);
        var samples = Math.Clamp((int)MathF.Ceiling(Math.Max(stepX, stepY)) * 2, 2, 16);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var sum = 0f;
                for (var sy = 0; sy < samples; sy++)
                {
                    for (var sx = 0; sx < samples; sx++)
                    {
                        var u = left + ((x + ((sx + 0.5f) / samples)) * stepX) - 0.5f;
                        var v = top + ((y + ((sy + 0.5f) / samples)) * stepY) - 0.5f;
                        sum += Bilinear(grey, stride, left, top, cropWidth, cropHeight, u, v);
                    }
                }

                result[(y * width) + x] = sum / (samples * samples);
            }
        }

        return result;
    }

    private static float Bilinear(float[] grey, int stride, int left, int top, int cropWidth, int cropHeight, float u, float v)
    {
        u = Math.Clamp(u, left, left + cropWidth - 1);
        v = Math.Clamp(v, top, top + cropHeight - 1);
        var (x0, y0) = ((int)u, (int)v);
        var (x1, y1) = (Math.Min(x0 + 1, left + cropWidth - 1), Math.Min(y0 + 1, top + cropHeight - 1));
        var (fx, fy) = (u - x0, v - y0);
        var upper = (grey[(y0 * stride) + x0] * (1 - fx)) + (grey[(y0 * stride) + x1] * fx);
        var lower = (grey[(y1 * stride) + x0] * (1 - fx)) + (grey[(y1 * stride) + x1] * fx);
        return (upper * (1 - fy)) + (lower * fy);
    }

    private static (float X, float Y) CentreOfMass(float[] box, int width, int height)
    {
        var (mass, sumX, sumY) = (0.0, 0.0, 0.0);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var m = box[(y * width) + x];
                (mass, sumX, sumY) = (mass + m, sumX + (m * (x + 0.5)), sumY + (m * (y + 0.5)));
            }
        }

        return mass > 0 ? ((float)(sumX / mass), (float)(sumY / mass)) : (width / 2f, height / 2f);
    }
}
