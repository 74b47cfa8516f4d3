using MnistCnn.Core.Data;

namespace MnistCnn.Core.Tests;

/// <summary>
/// A tiny learnable 28x28 set: class c is a bright 6x6 square at one of ten fixed places, over seeded noise.
/// </summary>
internal static class LearnableDigits
{
    public static DigitDataset Make(int count, int seed = 0)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 28 * 28];
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            var label = i % 10;
            labels[i] = (byte)label;
            var image = pixels.AsSpan(i * 784, 784);
            for (var k = 0; k < image.Length; k++)
            {
                image[k] = (byte)random.Next(0, 60);
            }

            var (top, left) = (2 + (label / 5 * 12), 1 + (label % 5 * 5));
            for (var y = top; y < top + 6; y++)
            {
                for (var x = left; x < left + 6 && x < 28; x++)
                {
                    image[(y * 28) + x] = (byte)random.Next(200, 256);
                }
            }
        }

        return new DigitDataset(pixels, labels, 28, 28);
    }
}
