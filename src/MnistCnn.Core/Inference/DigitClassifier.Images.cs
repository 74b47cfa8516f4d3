using MnistCnn.Core.Diagnostics;
using MnistCnn.Core.Models;

namespace MnistCnn.Core.Inference;

/// <summary>Pictures of any size, and the classifier's network as ONNX.</summary>
public sealed partial class DigitClassifier
{
    /// <summary>
    /// Classifies a picture of a handwritten digit: any size, 8-bit grey, dark ink on light paper or light on
    /// dark. The picture is first prepared as MNIST's digits were made (<see cref="DigitImage.TryToMnist"/>:
    /// ink told from paper, cropped, scaled to fit 20x20, centred by mass in 28x28), then classified as by
    /// <see cref="Predict"/>.
    /// </summary>
    /// <param name="gray">The pixels, one byte each (0 black .. 255 white), row after row.</param>
    /// <param name="width">The width in pixels, 1 to <see cref="DigitImage.MaxSide"/>.</param>
    /// <param name="height">The height in pixels, 1 to <see cref="DigitImage.MaxSide"/>.</param>
    /// <param name="stride">The distance between the starts of two rows in bytes, at least
    /// <paramref name="width"/>; 0 (the default) means <paramref name="width"/>.</param>
    /// <returns>The prediction. A picture without ink (one grey level, or ink and paper closer than 32 levels)
    /// is not an error: its prediction has <see cref="DigitPrediction.IsLikelyDigit"/> <see langword="false"/>
    /// (its digit is the network's answer for a blank image).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or above <see cref="DigitImage.MaxSide"/>,
    /// or the stride is negative or below the width.</exception>
    /// <exception cref="ArgumentException"><paramref name="gray"/> does not hold <paramref name="height"/> rows of
    /// <paramref name="stride"/> bytes (the last row may end after <paramref name="width"/> bytes).</exception>
    public DigitPrediction PredictImage(ReadOnlySpan<byte> gray, int width, int height, int stride = 0)
    {
        Span<byte> digit = stackalloc byte[PixelCount];
        var inked = DigitImage.TryToMnist(gray, width, height, digit, stride);
        var call = Telemetry.PredictStarting("predict_image");
        var prediction = PredictPixels(digit);
        Telemetry.PredictCompleted(call, "predict_image", 1);
        return inked ? prediction : new DigitPrediction(prediction.Digit, [.. prediction.Probabilities], isLikelyDigit: false);
    }

    /// <summary>
    /// Writes this classifier's network as an ONNX model (opset 13) to <paramref name="path"/>, atomically, without
    /// torch, so that ONNX Runtime, ML.NET or Windows ML can run it: one node per layer (for a <see cref="ConvNet"/>
    /// Conv, Sigmoid, Conv, Sigmoid, Flatten, Gemm; for a <see cref="LeNet"/> Conv, Relu, MaxPool, Conv, Relu, MaxPool,
    /// Flatten, Gemm, Relu, Gemm); input <c>input</c> float <c>[N, 1, 28, 28]</c> (pixels / 255, MNIST's form: see
    /// <see cref="DigitImage"/>), output <c>logits</c> float <c>[N, 10]</c>, N any batch size. To export a trained
    /// torch model, make a classifier of it first: <c>DigitClassifier.FromModel(model).ExportOnnx(path)</c>.
    /// </summary>
    /// <param name="path">The destination file (conventionally <c>.onnx</c>); replaced if it exists.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void ExportOnnx(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var description = _weights.Description;
        AtomicFile.Write(path, OnnxFormat.Write(description, description.Parameters.Select((p, i) => (p.Name, _weights[i].ToArray()))
            .ToDictionary(t => t.Name, t => t.Item2, StringComparer.Ordinal)));
    }
}
