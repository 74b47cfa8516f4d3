using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using SkiaSharp;

namespace MnistCnn.Samples.Predict;

/// <summary>Writes the first test digits as 28x28 grey PNG files, and optionally the model's answers for them.</summary>
internal static class Export
{
    private const int PaperScale = 4;

    public static void Run(DigitDataset test, string folder, int count, ConvNet? model)
    {
        Directory.CreateDirectory(folder);
        count = Math.Min(count, test.Count);
        using var batch = test.GetBatch(0, count);
        var pixels = batch.Images.data<float>().ToArray();
        var size = test.ImageWidth;
        var names = new string[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = $"test-{i:D5}.png";
            using var bitmap = new SKBitmap(new SKImageInfo(size, test.ImageHeight, SKColorType.Gray8, SKAlphaType.Opaque));
            for (var p = 0; p < size * test.ImageHeight; p++)
            {
                // The dataset's floats are p/255 exactly, so this restores the original byte.
                var value = (byte)MathF.Round(pixels[(i * size * test.ImageHeight) + p] * 255);
                bitmap.SetPixel(p % size, p / size, new SKColor(value, value, value));
            }

            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(folder, names[i]), data.ToArray());
            WritePaperVariant(pixels.AsSpan(i * size * test.ImageHeight, size * test.ImageHeight), size, Path.Combine(folder, "paper", $"paper-{i:D5}.jpg"));
        }

        Console.WriteLine($"Wrote {count} test digits to {folder}");
        if (model is not null)
        {
            // The answers computed from the dataset's tensors, without any image file in between.
            var probabilities = Classifier.Probabilities(model, batch.Images);
            File.WriteAllLines(
                Path.Combine(folder, "expected.tsv"),
                names.Select((name, i) => $"{name}\t{test.GetLabel(i)}\t{Classifier.ArgMax(probabilities[i])}"));
            Console.WriteLine($"Wrote the model's answers from the tensors to {Path.Combine(folder, "expected.tsv")}");
        }
    }

    /// <summary>
    /// The digit as a photo of paper might show it: dark ink on an off-white colour background, four times
    /// larger, off-centre in a non-square JPEG. It exercises predict's preparation (grey, invert, crop,
    /// scale, centre), which should give nearly the answers of the original.
    /// </summary>
    private static void WritePaperVariant(ReadOnlySpan<float> digit, int size, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var (width, height, left, top) = ((size * PaperScale) + 60, (size * PaperScale) + 20, 40, 5);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var ink = Sample(digit, size, ((x - left) / (float)PaperScale) - 0.5f, ((y - top) / (float)PaperScale) - 0.5f);
                byte Mix(byte paper, byte pen) => (byte)MathF.Round((paper * (1 - ink)) + (pen * ink));
                bitmap.SetPixel(x, y, new SKColor(Mix(245, 20), Mix(238, 30), Mix(225, 90)));
            }
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 92);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>Bilinear sample of a digit (0 outside it).</summary>
    private static float Sample(ReadOnlySpan<float> digit, int size, float u, float v)
    {
        var (x0, y0) = ((int)MathF.Floor(u), (int)MathF.Floor(v));
        var (fx, fy) = (u - x0, v - y0);
        float At(ReadOnlySpan<float> d, int x, int y) => x >= 0 && y >= 0 && x < size && y < size ? d[(y * size) + x] : 0;
        return (At(digit, x0, y0) * (1 - fx) * (1 - fy)) + (At(digit, x0 + 1, y0) * fx * (1 - fy))
            + (At(digit, x0, y0 + 1) * (1 - fx) * fy) + (At(digit, x0 + 1, y0 + 1) * fx * fy);
    }
}
