using System.Globalization;
using MnistCnn.Core.Evaluation;
using ScottPlot;

namespace MnistCnn.Samples.Train;

/// <summary>
/// Draws the confusion matrix as a heat map: one cell per (true, predicted) pair, its shade the share of the true
/// class's images (so every row reads as that class's outcomes), its text the count. Classes are labelled with
/// their names (digits when none are given).
/// </summary>
internal static class ConfusionMatrixPlot
{
    /// <summary>Saves the heat map; <paramref name="subject"/> names what was evaluated (model, preset, data set).</summary>
    public static void SavePng(EvaluationResult result, string subject, string path, IReadOnlyList<string>? classNames = null)
    {
        var n = result.ClassCount;
        var plot = new Plot();
        for (var label = 0; label < n; label++)
        {
            var row = result.ConfusionMatrix[label];
            var total = Math.Max(1, row.Sum());
            for (var predicted = 0; predicted < n; predicted++)
            {
                // Row 0 at the top, as confusion matrices are read.
                var share = (double)row[predicted] / total;
                var (bottom, left) = (n - 1 - label, predicted);
                var cell = plot.Add.Rectangle(left, left + 1, bottom, bottom + 1);
                cell.FillStyle.Color = Shade(share);
                cell.LineStyle.Width = 0;
                var text = plot.Add.Text(row[predicted].ToString(CultureInfo.InvariantCulture), left + 0.5, bottom + 0.5);
                text.LabelFontSize = 11;
                text.LabelFontColor = share > 0.5 ? Colors.White : Colors.Black;
                text.LabelAlignment = Alignment.MiddleCenter;
            }
        }

        var centres = Enumerable.Range(0, n).Select(i => i + 0.5).ToArray();
        var names = classNames is { } given && given.Count == n
            ? [.. given]
            : Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        // Names longer than a digit are broken at spaces and slashes under the columns, in a smaller font, to fit a cell.
        var wide = names.Any(name => name.Length > 2);
        var columnNames = wide ? names.Select(name => name.Replace(" ", "\n", StringComparison.Ordinal).Replace("/", "/\n", StringComparison.Ordinal)).ToArray() : names;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(centres, columnNames);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(centres, names.Reverse().ToArray());
        plot.Axes.SetLimits(0, n, 0, n);
        PlotFont.Apply(plot, "confusion.png");
        plot.Title(string.Create(CultureInfo.InvariantCulture, $"{subject}: {result.Accuracy:F2}% of {result.Count} test images"));
        plot.XLabel("predicted");
        plot.YLabel("true label");
        if (wide)
        {
            plot.Axes.Bottom.TickLabelStyle.FontSize = 10;
        }

        plot.SavePng(path, 640, 600);
    }

    // White for none of the class's images, deep blue for all of them.
    private static Color Shade(double share)
    {
        static byte Mix(byte to, double t) => (byte)Math.Round(255 + ((to - 255) * t));
        var t = Math.Sqrt(share);
        return new Color(Mix(8, t), Mix(48, t), Mix(107, t));
    }
}
