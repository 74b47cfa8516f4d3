using System.Globalization;
using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;

namespace MnistCnn.Samples.Predict;

/// <summary>Evaluates a model on the test split and prints what it gets wrong.</summary>
internal static class Evaluation
{
    private const int BatchSize = 1000;

    public static void Run(ConvNet model, DigitDataset test, int worst)
    {
        var result = Validator.Evaluate(model, new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = BatchSize }));
        var invariant = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(invariant, $"Accuracy: {result.Accuracy:F2}% ({result.Correct} of {result.Count}), mean loss {result.Loss:F4}"));
        Console.WriteLine("Per-class accuracy:");
        for (var c = 0; c < result.ClassCount; c++)
        {
            Console.WriteLine(string.Create(invariant, $"  {c}: {result.PerClassAccuracy[c]:F2}%"));
        }

        Console.WriteLine("Confusion matrix (rows: true class, columns: predicted):");
        Console.WriteLine("      " + string.Concat(Enumerable.Range(0, result.ClassCount).Select(c => c.ToString(invariant).PadLeft(6))));
        for (var t = 0; t < result.ClassCount; t++)
        {
            Console.WriteLine(t.ToString(invariant).PadLeft(6) + string.Concat(result.ConfusionMatrix[t].Select(n => n.ToString(invariant).PadLeft(6))));
        }

        PrintWorstMistakes(model, test, worst);
    }

    /// <summary>The wrong answers given with the highest confidence, drawn as text.</summary>
    private static void PrintWorstMistakes(ConvNet model, DigitDataset test, int worst)
    {
        var mistakes = new List<(int Index, int Label, int Predicted, float Confidence)>();
        for (var start = 0; start < test.Count; start += BatchSize)
        {
            using var batch = test.GetBatch(start, Math.Min(BatchSize, test.Count - start));
            var probabilities = Classifier.Probabilities(model, batch.Images);
            for (var i = 0; i < probabilities.Length; i++)
            {
                var (label, predicted) = (test.GetLabel(start + i), Classifier.ArgMax(probabilities[i]));
                if (predicted != label)
                {
                    mistakes.Add((start + i, label, predicted, probabilities[i][predicted]));
                }
            }
        }

        Console.WriteLine($"Worst mistakes ({Math.Min(worst, mistakes.Count)} of {mistakes.Count}):");
        foreach (var (index, label, predicted, confidence) in mistakes.OrderByDescending(m => m.Confidence).Take(worst))
        {
            using var batch = test.GetBatch(index, 1);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test image {index}: true {label}, predicted {predicted} with {confidence * 100:F1}%"));
            Console.Write(Report.Ascii(batch.Images.data<float>().ToArray(), test.ImageWidth));
        }
    }
}
