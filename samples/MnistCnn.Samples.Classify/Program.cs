// Classifies the 10,000 MNIST test images with the package's pretrained model, in managed code (no
// TorchSharp backend), and checks the accuracy against the one the model records (and, with --expect, the
// one its documentation states). Usage: MnistCnn.Samples.Classify <MNIST folder> [--expect <percent>]
// Exit codes: 0 the accuracy is as stated, 1 it is not or the data cannot be read, 2 bad arguments.
using MnistCnn.Core.Data.Idx;
using System.Diagnostics;
using System.Globalization;
using MnistCnn.Core.Data;
using MnistCnn.Core.Inference;

if (args.Length is not (1 or 3) || (args.Length == 3 && args[1] != "--expect"))
{
    Console.Error.WriteLine("usage: MnistCnn.Samples.Classify <MNIST folder> [--expect <percent>]");
    return 2;
}

try
{
    var images = IdxFile.ReadImages(Path.Combine(args[0], "t10k-images-idx3-ubyte"));
    var labels = IdxFile.ReadLabels(Path.Combine(args[0], "t10k-labels-idx1-ubyte"));

    // The scenario: load, predict, show.
    var classifier = DigitClassifier.Pretrained();
    DigitPrediction a = classifier.Predict(images.Pixels.AsSpan(0, DigitImage.PixelCount));
    Console.WriteLine($"{a.Digit} {a.Confidence:P1} {string.Join(' ', a.Probabilities)}");

    var clock = Stopwatch.StartNew();
    var predictions = classifier.PredictBatch(images.Pixels, images.Count);
    clock.Stop();
    var correct = Enumerable.Range(0, images.Count).Count(i => predictions[i].Digit == labels[i]);
    var accuracy = (100.0 * correct / images.Count).ToString("F2", CultureInfo.InvariantCulture);
    var notDigits = predictions.Count(p => !p.IsLikelyDigit);
    Console.WriteLine(
        $"{correct} of {images.Count} test images correct: {accuracy}% ({clock.Elapsed.TotalMilliseconds:F0} ms; " +
        $"{notDigits} flagged as not likely a digit); {Environment.OSVersion}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");

    var recorded = classifier.Metadata["test_accuracy"];
    if (accuracy != recorded)
    {
        Console.Error.WriteLine($"error: accuracy {accuracy}% differs from the {recorded}% the pretrained model records");
        return 1;
    }

    if (args.Length == 3 && accuracy != args[2])
    {
        Console.Error.WriteLine($"error: accuracy {accuracy}% differs from the stated {args[2]}%");
        return 1;
    }

    Console.WriteLine($"as stated: {recorded}%");
    return 0;
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
