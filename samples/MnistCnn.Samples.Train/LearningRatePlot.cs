using System.Globalization;
using MnistCnn.Core.Training;
using ScottPlot;

namespace MnistCnn.Samples.Train;

/// <summary>Draws a learning-rate sweep: the batch losses and their moving average against the rate (log scale), and the suggested rate.</summary>
internal static class LearningRatePlot
{
    /// <summary>Saves the sweep; <paramref name="subject"/> names what it describes (model, preset, data set).</summary>
    public static void SavePng(LearningRateFinderResult result, string subject, string path)
    {
        var x = result.Points.Select(p => Math.Log10(p.LearningRate)).ToArray();
        var plot = new Plot();
        var raw = plot.Add.Scatter(x, result.Points.Select(p => p.Loss).ToArray());
        raw.LegendText = "batch loss";
        raw.MarkerSize = 3;
        raw.LineWidth = 0;
        var smoothed = plot.Add.Scatter(x, result.Points.Select(p => p.SmoothedLoss).ToArray());
        smoothed.LegendText = "smoothed loss";
        smoothed.MarkerSize = 0;
        smoothed.LineWidth = 2;
        var suggestion = plot.Add.VerticalLine(Math.Log10(result.SuggestedLearningRate));
        suggestion.LegendText = string.Create(CultureInfo.InvariantCulture, $"suggested rate {result.SuggestedLearningRate:G3}");
        suggestion.LinePattern = LinePattern.Dashed;
        // Powers of ten only; and the loss axis from the lowest loss to half again the first smoothed loss, as fastai
        // draws it, so a diverging tail does not flatten the part of the curve that matters.
        var powers = Enumerable.Range((int)Math.Floor(x.Min()), (int)Math.Ceiling(x.Max()) - (int)Math.Floor(x.Min()) + 1).Select(p => (double)p).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            powers, powers.Select(p => string.Create(CultureInfo.InvariantCulture, $"1e{p:0}")).ToArray());
        var lowest = result.Points.Min(p => Math.Min(p.Loss, p.SmoothedLoss));
        plot.Axes.SetLimitsY(lowest * 0.95, Math.Max(result.Points[0].SmoothedLoss * 1.5, lowest * 1.1));
        PlotFont.Apply(plot, "lr-find.png");
        plot.Axes.SetLimitsX(powers[0], powers[^1]);
        plot.Title($"{subject}: learning-rate sweep{(result.Diverged ? " (stopped when the loss diverged)" : string.Empty)}");
        plot.XLabel("learning rate (log scale)");
        plot.YLabel("training loss");
        plot.ShowLegend();
        plot.SavePng(path, 800, 500);
    }
}
