namespace MnistCnn.Core.Tests.Inference;

/// <summary>
/// MNIST digits redrawn as a photo of paper might show them: dark ink on an off-white page, enlarged with
/// bilinear interpolation, off-centre in a non-square picture (the grey form of the prediction sample's
/// paper-style JPEGs).
/// </summary>
internal static class PaperDigits
{
    /// <summary>Draws the 28x28 <paramref name="digit"/> <paramref name="scale"/> times larger at (<paramref name="left"/>, <paramref name="top"/>).</summary>
    public static byte[] Draw(ReadOnlySpan<byte> digit, int scale, int width, int height, int left, int top, byte paper = 238, byte ink = 32)
    {
        var picture = new byte[width * height];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var amount = Sample(digit, ((x - left + 0.5f) / scale) - 0.5f, ((y - top + 0.5f) / scale) - 0.5f) / 255f;
                picture[(y * width) + x] = (byte)MathF.Round((paper * (1 - amount)) + (ink * amount));
            }
        }

        return picture;
    }

    private static float Sample(ReadOnlySpan<byte> digit, float u, float v)
    {
        var (x0, y0) = ((int)MathF.Floor(u), (int)MathF.Floor(v));
        var (fx, fy) = (u - x0, v - y0);
        return (At(digit, x0, y0) * (1 - fx) * (1 - fy)) + (At(digit, x0 + 1, y0) * fx * (1 - fy))
            + (At(digit, x0, y0 + 1) * (1 - fx) * fy) + (At(digit, x0 + 1, y0 + 1) * fx * fy);
    }

    private static float At(ReadOnlySpan<byte> digit, int x, int y) => x is >= 0 and < 28 && y is >= 0 and < 28 ? digit[(y * 28) + x] : 0;
}
