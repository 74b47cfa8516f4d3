using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Data;
using MnistCnn.Core.Inference;
using SkiaSharp;

namespace MnistCnn.Samples.Predict;

/// <summary>
/// Writes the first MNIST test digits as 28x28 grey PNG files and as paper-style JPEGs, and optionally the
/// classifier's answers for the digits' own bytes (expected.tsv), for <c>./build.sh predict-check</c>.
/// </summary>
internal static class Export
{
    private const int Size = DigitImage.Size;
    private const int PaperScale = 4;

    public static void Run(string dataFolder, string folder, int count, DigitClassifier? classifier)
    {
        var images = IdxFile.ReadImages(Find(dataFolder, "t10k-images-idx3-ubyte"));
        var labels = IdxFile.ReadLabels(Find(dataFolder, "t10k-labels-idx1-ubyte"));
        count = Math.Min(count, images.Count);
        Directory.CreateDirectory(Path.Combine(folder, "paper"));
        var lines = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var digit = images.Pixels.AsSpan(i * Size * Size, Size * Size);
            var name = $"test-{i:D5}.png";
            using (var bitmap = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Gray8, SKAlphaType.Opaque)))
            {
                digit.CopyTo(bitmap.GetPixelSpan());
                Save(bitmap, SKEncodedImageFormat.Png, 100, Path.Combine(folder, name));
            }

            WritePaperVariant(digit, Path.Combine(folder, "paper", $"paper-{i:D5}.jpg"));
            if (classifier is not null)
            {
                lines.Add($"{name}\t{labels[i]}\t{classifier.Predict(digit).Digit}");
            }
        }

        Console.WriteLine($"Wrote {count} test digits to {folder}");
        if (classifier is not null)
        {
            // The answers for the dataset's own bytes, without any image file in between.
            File.WriteAllLines(Path.Combine(folder, "expected.tsv"), lines);
            Console.WriteLine($"Wrote the classifier's answers for the digits' bytes to {Path.Combine(folder, "expected.tsv")}");
        }
    }

    private static string Find(string folder, string name) =>
        File.Exists(Path.Combine(folder, name)) ? Path.Combine(folder, name) : Path.Combine(folder, name + ".gz");

    /// <summary>
    /// The digit as a photo of paper might show it: dark ink on an off-white colour background, four times
    /// larger (bilinear), off-centre in a non-square JPEG.
    /// </summary>
    private static void WritePaperVariant(ReadOnlySpan<byte> digit, string path)
    {
        var (width, height, left, top) = ((Size * PaperScale) + 60, (Size * PaperScale) + 20, 40, 5);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var ink = Sample(digit, ((x - left) / (float)PaperScale) - 0.5f, ((y - top) / (float)PaperScale) - 0.5f) / 255f;
                byte Mix(byte paper, byte pen) => (byte)MathF.Round((paper * (1 - ink)) + (pen * ink));
                bitmap.SetPixel(x, y, new SKColor(Mix(245, 20), Mix(238, 30), Mix(225, 90)));
            }
        }

        Save(bitmap, SKEncodedImageFormat.Jpeg, 92, path);
    }

    private static void Save(SKBitmap bitmap, SKEncodedImageFormat format, int quality, string path)
    {
        using var data = bitmap.Encode(format, quality);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>Bilinear sample of a digit (0 outside it).</summary>
    private static float Sample(ReadOnlySpan<byte> digit, float u, float v)
    {
        var (x0, y0) = ((int)MathF.Floor(u), (int)MathF.Floor(v));
        var (fx, fy) = (u - x0, v - y0);
        float At(ReadOnlySpan<byte> d, int x, int y) => x is >= 0 and < Size && y is >= 0 and < Size ? d[(y * Size) + x] : 0;
        return (At(digit, x0, y0) * (1 - fx) * (1 - fy)) + (At(digit, x0 + 1, y0) * fx * (1 - fy))
            + (At(digit, x0, y0 + 1) * (1 - fx) * fy) + (At(digit, x0 + 1, y0 + 1) * fx * fy);
    }
}
