namespace MnistCnn.Samples.Wasm.Tests;

/// <summary>Strokes to draw on the pad, in fractions of its side, as a hand would draw them.</summary>
internal static class Strokes
{
    /// <summary>Gets digits that a reader (and the pretrained model) reads as these digits.</summary>
    public static IReadOnlyDictionary<int, (double X, double Y)[][]> Digits { get; } = new Dictionary<int, (double X, double Y)[][]>
    {
        [7] = [[(0.25, 0.22), (0.72, 0.22), (0.45, 0.82)]],
        [1] = [[(0.50, 0.15), (0.50, 0.85)]],
        [0] = [Ellipse(0.5, 0.5, 0.22, 0.32, 24)],
        [4] = [[(0.35, 0.15), (0.28, 0.55), (0.72, 0.55)], [(0.58, 0.35), (0.58, 0.88)]],
    };

    /// <summary>Gets one dot: a press and release without moving.</summary>
    public static (double X, double Y)[][] Dot { get; } = [[(0.5, 0.5)]];

    /// <summary>Gets one stroke along the pad's four borders.</summary>
    public static (double X, double Y)[][] Border { get; } = [[(0.02, 0.02), (0.98, 0.02), (0.98, 0.98), (0.02, 0.98), (0.02, 0.02)]];

    /// <summary>Gets a zigzag over the whole pad.</summary>
    public static (double X, double Y)[][] Scribble { get; } =
        [[.. Enumerable.Range(0, 21).Select(i => (i % 2 == 0 ? 0.03 : 0.97, 0.03 + (0.94 * i / 20)))]];

    /// <summary>Gets a digit's strokes shrunk or grown by <paramref name="scale"/> about the pad's centre, then moved.</summary>
    public static (double X, double Y)[][] Moved((double X, double Y)[][] strokes, double scale, double dx, double dy) =>
        [.. strokes.Select(stroke => stroke.Select(p => (0.5 + ((p.X - 0.5) * scale) + dx, 0.5 + ((p.Y - 0.5) * scale) + dy)).ToArray())];

    private static (double X, double Y)[] Ellipse(double centreX, double centreY, double radiusX, double radiusY, int segments) =>
        [.. Enumerable.Range(0, segments + 1)
            .Select(i => 2 * Math.PI * i / segments)
            .Select(a => (centreX + (radiusX * Math.Sin(a)), centreY - (radiusY * Math.Cos(a))))];
}
