using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Data;

namespace MnistCnn.Core.Tests.Inference;

/// <summary>The real MNIST files as raw bytes (read once per test run, with managed code only).</summary>
internal static class RealMnistImages
{
    private static readonly Lazy<IdxImages> TestImages = new(() => IdxFile.ReadImages(File("t10k-images-idx3-ubyte")));
    private static readonly Lazy<byte[]> TestLabels = new(() => IdxFile.ReadLabels(File("t10k-labels-idx1-ubyte")));
    private static readonly Lazy<IdxImages> TrainImages = new(() => IdxFile.ReadImages(File("train-images-idx3-ubyte")));
    private static readonly Lazy<byte[]> TrainLabels = new(() => IdxFile.ReadLabels(File("train-labels-idx1-ubyte")));

    public static IdxImages Test => TestImages.Value;

    public static byte[] TestLabelBytes => TestLabels.Value;

    public static IdxImages Train => TrainImages.Value;

    public static byte[] TrainLabelBytes => TrainLabels.Value;

    public static ReadOnlySpan<byte> Image(IdxImages images, int index) => images.Pixels.AsSpan(index * 784, 784);

    private static string File(string name)
    {
        var path = Path.Combine(RealMnistFolder.Path, name);
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing; {RealMnistFolder.HowToGetThem}", path);
    }
}
