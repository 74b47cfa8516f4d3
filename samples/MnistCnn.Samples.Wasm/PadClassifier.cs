using System.Diagnostics;
using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Wasm;

/// <summary>
/// The pad's pixels to an answer, in the browser tab: <see cref="DigitImage.TryToMnist"/> prepares the drawing as
/// MNIST's digits were made, then <see cref="DigitClassifier.Predict"/> runs the network. The two steps are timed
/// apart, which <see cref="DigitClassifier.PredictImage"/> (the same two steps) would not allow.
/// </summary>
internal sealed class PadClassifier(DigitClassifier classifier)
{
    // Enough for both networks to reach their steady speed in Chromium (measured: docs/performance.md).
    private const int WarmUpPredictions = 30;

    private readonly byte[] _digit = new byte[DigitImage.PixelCount];

    /// <summary>Gets the classifier's model, as the page names it: its description up to the colon, and its test accuracy.</summary>
    public string ModelName =>
        (classifier.Metadata.TryGetValue("model", out var model) ? model.Split(':')[0] : "a model without a description") +
        (classifier.Metadata.TryGetValue("test_accuracy", out var accuracy) ? $", {accuracy}% on MNIST's test set" : string.Empty);

    /// <summary>
    /// Runs the network a few times on a blank digit. The browser's .NET interpreter optimises a method, and compiles
    /// its hot loops to WebAssembly, only after their first runs: without this the first drawings' answers take up to
    /// tens of milliseconds each (the first one most), where the later ones take a fraction of one.
    /// </summary>
    public void WarmUp()
    {
        var blank = new byte[DigitImage.PixelCount];
        for (var i = 0; i < WarmUpPredictions; i++)
        {
            classifier.Predict(blank);
        }
    }

    /// <summary>Classifies the pad's grey pixels (one byte each, row after row).</summary>
    /// <exception cref="ArgumentException">The pixels do not make a <paramref name="width"/> x <paramref name="height"/> picture.</exception>
    public BrowserPrediction Classify(byte[] grey, int width, int height)
    {
        var start = Stopwatch.GetTimestamp();
        var inked = DigitImage.TryToMnist(grey, width, height, _digit);
        var prepared = Stopwatch.GetTimestamp();
        var prediction = classifier.Predict(_digit);
        var end = Stopwatch.GetTimestamp();
        // A pad without ink is flagged as PredictImage flags it; otherwise the flag is the prediction's own.
        return new BrowserPrediction(
            prediction,
            inked && prediction.IsLikelyDigit,
            Stopwatch.GetElapsedTime(start, prepared).TotalMilliseconds,
            Stopwatch.GetElapsedTime(prepared, end).TotalMilliseconds);
    }
}
