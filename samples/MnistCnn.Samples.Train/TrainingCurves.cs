using MnistCnn.Core.Training;
using ScottPlot;

namespace MnistCnn.Samples.Train;

/// <summary>Draws the mean training loss (left axis) and the validation accuracy (right axis) per epoch.</summary>
internal static class TrainingCurves
{
    public static void SavePng(IReadOnlyList<EpochResult> epochs, string path)
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

        if (FindFont() is { } font)
        {
            Fonts.AddFontFile("Curves", font);
            plot.Font.Set("Curves");
        }
        else
        {
            Console.Error.WriteLine("note: no TrueType font found under /usr/share/fonts; curves.png has no text (install fonts-dejavu-core)");
        }

        plot.Title("MnistCnn.Core: ConvNet on MNIST");
        plot.XLabel("epoch");
        plot.Axes.Left.Label.Text = "loss";
        plot.ShowLegend();
        plot.SavePng(path, 800, 500);
    }

    /// <summary>
    /// Skia's dependency-free native library has no fontconfig to find system fonts, so the font is
    /// loaded from a file. Windows and macOS builds of Skia find their system fonts themselves.
    /// </summary>
    private static string? FindFont()
    {
        const string Fonts = "/usr/share/fonts";
        if (!OperatingSystem.IsLinux() || !Directory.Exists(Fonts))
        {
            return null;
        }

        var files = Directory.EnumerateFiles(Fonts, "*.ttf", SearchOption.AllDirectories).ToArray();
        return files.FirstOrDefault(f => Path.GetFileName(f) == "DejaVuSans.ttf") ?? files.FirstOrDefault();
    }
}
