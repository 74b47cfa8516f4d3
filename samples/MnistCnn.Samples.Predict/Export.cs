using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using SkiaSharp;

namespace MnistCnn.Samples.Predict;

/// <summary>Writes the first test digits as 28x28 grey PNG files, and optionally the model's answers for them.</summary>
internal static class Export
{
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
}
