using MnistCnn.Core.Training;
using ScottPlot;

namespace MnistCnn.Samples.Train;

/// <summary>Draws the mean training loss (left axis) and the validation accuracy (right axis) per epoch.</summary>
internal static class TrainingCurves
{
    /// <summary>Saves the curves of a run; <paramref name="title"/> names what they describe (model, preset, data set).</summary>
    public static void SavePng(IReadOnlyList<EpochResult> epochs, string title, string path)
    {
        var x = epochs.Select(e => (double)e.Epoch).ToArray();
        var plot = new Plot();
        var loss = plot.Add.Scatter(x, epochs.Select(e => e.TrainLossMean).ToArray());
        loss.LegendText = "training loss (mean)";
        var accuracies = epochs.Where(e => e.ValidationAccuracy is not null).ToArray();
        if (accuracies.Length > 0)
        {
            var accuracy = plot.Add.Scatter(
                accuracies.Select(e => (double)e.Epoch).ToArray(),
                accuracies.Select(e => e.ValidationAccuracy!.Value).ToArray());
            accuracy.LegendText = "test accuracy (%)";
            accuracy.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "accuracy (%)";
        }

        PlotFont.Apply(plot, "curves.png");
        plot.Title(title);
        plot.XLabel("epoch");

        // Epochs are counted, not measured: ticks at whole epochs only.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.Left.Label.Text = "loss";
        plot.ShowLegend();
        plot.SavePng(path, 800, 500);
    }
}
