using ScottPlot;

namespace MnistCnn.Samples.Train;

/// <summary>The font the sample's plots use.</summary>
internal static class PlotFont
{
    private static readonly Lazy<string?> Font = new(FindFont);

    /// <summary>Gets the TrueType file the plots use, or null when none was found.</summary>
    public static string? FilePath => Font.Value;

    /// <summary>Sets the plot's font; says once on stderr when none is found (the PNG then has no text).</summary>
    public static void Apply(Plot plot, string fileName)
    {
        if (Font.Value is { } font)
        {
            Fonts.AddFontFile("SamplePlots", font);
            plot.Font.Set("SamplePlots");
        }
        else
        {
            Console.Error.WriteLine($"note: no TrueType font found under /usr/share/fonts; {fileName} has no text (install fonts-dejavu-core)");
        }
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
