using System.Globalization;
using MnistCnn.Core.Evaluation;
using SkiaSharp;

namespace MnistCnn.Samples.Train;

/// <summary>
/// Draws what the model gets wrong: the test images with the highest loss in a grid, each with its label, the
/// prediction and the model's confidence in it, then the most confused (label, prediction) pairs.
/// </summary>
internal static class MistakesImage
{
    private const int Columns = 4;
    private const int Scale = 4;
    private const int CellWidth = 170;
    private const int CaptionHeight = 40;
    private const int Margin = 12;
    private const int TitleHeight = 34;
    private const int LineHeight = 20;

    /// <summary>Saves the report; <paramref name="subject"/> names what it describes (model, preset, data set).</summary>
    public static void SavePng(MistakeReport report, string subject, string path)
    {
        var tops = report.TopLosses;
        var rows = (tops.Count + Columns - 1) / Columns;
        var imageSide = (tops.Count > 0 ? Math.Max(tops[0].Height, tops[0].Width) : 28) * Scale;
        var cellHeight = imageSide + CaptionHeight;
        var width = (Margin * 2) + (Columns * CellWidth);
        var height = TitleHeight + (rows * cellHeight) + LineHeight + ((report.MostConfused.Count + 1) * LineHeight) + Margin;
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var typeface = PlotFont.FilePath is { } file ? SKTypeface.FromFile(file) : SKTypeface.Default;
        using var titleFont = new SKFont(typeface, 17);
        using var font = new SKFont(typeface, 13);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(
            string.Create(CultureInfo.InvariantCulture, $"{subject}: highest losses; {report.ErrorCount} of {report.ImageCount} test images are wrong"),
            Margin,
            22,
            SKTextAlign.Left,
            titleFont,
            ink);
        for (var t = 0; t < tops.Count; t++)
        {
            var (left, top) = (Margin + (t % Columns * CellWidth), TitleHeight + (t / Columns * cellHeight));
            DrawDigit(canvas, tops[t], left, top);
            var image = tops[t];
            using var caption = new SKPaint { Color = image.Label == image.Predicted ? SKColors.DarkGreen : SKColors.DarkRed, IsAntialias = true };
            canvas.DrawText($"{Name(report, image.Label)} \u2192 {Name(report, image.Predicted)}", left, top + imageSide + 15, SKTextAlign.Left, font, caption);
            canvas.DrawText(
                string.Create(CultureInfo.InvariantCulture, $"conf. {image.Confidence:F2}, loss {image.Loss:F2}"),
                left,
                top + imageSide + 31,
                SKTextAlign.Left,
                font,
                ink);
        }

        var y = TitleHeight + (rows * cellHeight) + LineHeight;
        canvas.DrawText("Most confused (label \u2192 predicted: images)", Margin, y, SKTextAlign.Left, titleFont, ink);
        foreach (var pair in report.MostConfused)
        {
            y += LineHeight;
            canvas.DrawText(string.Create(CultureInfo.InvariantCulture, $"{Name(report, pair.Label)} \u2192 {Name(report, pair.Predicted)}: {pair.Count}"), Margin, y, SKTextAlign.Left, font, ink);
        }

        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        using var stream = File.Create(path);
        png.SaveTo(stream);
    }

    private static string Name(MistakeReport report, int label) =>
        label < report.ClassNames.Count ? report.ClassNames[label] : label.ToString(CultureInfo.InvariantCulture);

    // White ink on black, as MNIST is drawn; each image stretched to its own range (it may be normalised).
    private static void DrawDigit(SKCanvas canvas, HighLossImage image, float left, float top)
    {
        var (low, high) = (image.Pixels.Min(), image.Pixels.Max());
        var range = Math.Max(high - low, 1e-6f);
        using var paint = new SKPaint();
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                var level = (byte)Math.Clamp(Math.Round((image.Pixels[(y * image.Width) + x] - low) / range * 255), 0, 255);
                paint.Color = new SKColor(level, level, level);
                canvas.DrawRect(left + (x * Scale), top + (y * Scale), Scale, Scale, paint);
            }
        }
    }
}
