using System.Globalization;
using System.Text;

namespace MnistCnn.Samples.Predict;

/// <summary>Text output: predictions and digits drawn as ASCII art.</summary>
internal static class Report
{
    private const string Ramp = " .:-=+*#%@";

    /// <summary>"file: class (p%)  0:p 1:p ..." on one line.</summary>
    public static string Prediction(string file, float[] probabilities)
    {
        var best = Classifier.ArgMax(probabilities);
        var all = string.Join(' ', probabilities.Select((p, c) => string.Create(CultureInfo.InvariantCulture, $"{c}:{p:F3}")));
        return string.Create(CultureInfo.InvariantCulture, $"{file}: {best} ({probabilities[best] * 100:F1}%)  {all}");
    }

    /// <summary>A 28x28 digit as 14 lines of 28 characters (two pixel rows per line keep the aspect).</summary>
    public static string Ascii(ReadOnlySpan<float> pixels, int size)
    {
        var text = new StringBuilder();
        for (var y = 0; y < size; y += 2)
        {
            for (var x = 0; x < size; x++)
            {
                var value = (pixels[(y * size) + x] + pixels[(Math.Min(y + 1, size - 1) * size) + x]) / 2;
                text.Append(Ramp[Math.Clamp((int)(value * Ramp.Length), 0, Ramp.Length - 1)]);
            }

            text.AppendLine();
        }

        return text.ToString();
    }
}
