using MnistCnn.Core.Data;

namespace MnistCnn.Core.Tests;

/// <summary>Builds small synthetic digit datasets whose pixels encode their index, so order can be checked.</summary>
internal static class SyntheticDigits
{
    /// <summary>Image i has every pixel equal to (i * 7 + k) mod 256 for pixel k, and label i mod classCount.</summary>
    public static (byte[] Pixels, byte[] Labels) Make(int count, int height = 28, int width = 28, int classCount = 10)
    {
        var pixels = new byte[count * height * width];
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = (byte)(i % classCount);
            for (var k = 0; k < height * width; k++)
            {
                pixels[(i * height * width) + k] = (byte)(((i * 7) + k) % 256);
            }
        }

        return (pixels, labels);
    }

    public static DigitDataset Dataset(int count, int height = 28, int width = 28, DigitDatasetOptions? options = null)
    {
        var (pixels, labels) = Make(count, height, width, options?.ClassCount ?? 10);
        return new DigitDataset(pixels, labels, height, width, options);
    }

    /// <summary>Recovers each image's index from its first pixel (valid while count * 7 stays below 256 * k).</summary>
    public static long[] IndicesOf(DigitBatch batch, int count)
    {
        var firstPixels = batch.Images.flatten(1)[TorchSharp.torch.TensorIndex.Colon, 0].mul(255f).round().data<float>().ToArray();
        return firstPixels.Select(p => Enumerable.Range(0, count).First(i => (i * 7) % 256 == (int)p)).Select(i => (long)i).ToArray();
    }
}
