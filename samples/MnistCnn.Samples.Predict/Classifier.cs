using MnistCnn.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Samples.Predict;

/// <summary>Runs a saved <see cref="ConvNet"/> on prepared 28x28 digits.</summary>
internal static class Classifier
{
    public static ConvNet LoadModel(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model file {path} not found (train one with ./build.sh train)", path);
        }

        var model = new ConvNet();
        try
        {
            ModelWeights.Load(model, path);
        }
        catch
        {
            model.Dispose();
            throw;
        }

        model.eval();
        return model;
    }

    /// <summary>Class probabilities of each digit, scaled x/255 as the training data was.</summary>
    public static float[][] Probabilities(ConvNet model, IReadOnlyList<byte[]> digits)
    {
        const int Pixels = DigitImage.Size * DigitImage.Size;
        var input = new float[digits.Count * Pixels];
        for (var d = 0; d < digits.Count; d++)
        {
            for (var p = 0; p < Pixels; p++)
            {
                input[(d * Pixels) + p] = digits[d][p] / 255f;
            }
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = tensor(input, [digits.Count, 1, DigitImage.Size, DigitImage.Size]);
        return Probabilities(model, images);
    }

    /// <summary>Class probabilities of a batch of images <c>[N, 1, 28, 28]</c> (the caller owns the tensor).</summary>
    public static float[][] Probabilities(ConvNet model, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var probabilities = nn.functional.softmax(model.call(images), 1).cpu().data<float>().ToArray();
        var classes = ConvNet.ClassCount;
        return Enumerable.Range(0, probabilities.Length / classes).Select(i => probabilities[(i * classes)..((i + 1) * classes)]).ToArray();
    }

    public static int ArgMax(float[] probabilities) => Array.IndexOf(probabilities, probabilities.Max());
}
