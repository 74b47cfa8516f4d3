using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Data;

/// <summary>The affine parameters drawn for one image: shifts in pixels (x right, y down), rotation in degrees, scale factor.</summary>
internal readonly record struct AffineDraw(double ShiftX, double ShiftY, double RotationDegrees, double Scale);

/// <summary>
/// Applies a <see cref="DigitAugmentation"/> to a batch: one affine transform per image, drawn from a counter-based
/// SplitMix64 stream keyed by (seed, epoch, dataset index), then torch's <c>affine_grid</c> + <c>grid_sample</c>
/// on the batch's device.
/// </summary>
internal static class BatchAugmentation
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    // Keeps augmentation draws apart from the shuffle's stream for the same (seed, epoch).
    private const ulong Domain = 0xA0761D6478BD642FUL;

    /// <summary>The parameters of the image at dataset <paramref name="index"/> in <paramref name="epoch"/> of a run seeded with <paramref name="seed"/>.</summary>
    public static AffineDraw Draw(DigitAugmentation options, long seed, int epoch, long index)
    {
        var key = SeededShuffle.Mix(SeededShuffle.Mix((ulong)seed ^ Domain) ^ SeededShuffle.Mix(unchecked((ulong)epoch + Golden)));
        var state = SeededShuffle.Mix(key ^ SeededShuffle.Mix(unchecked((ulong)index + (2 * Golden))));
        return new AffineDraw(
            Symmetric(state, 1, options.MaxShift),
            Symmetric(state, 2, options.MaxShift),
            Symmetric(state, 3, options.MaxRotationDegrees),
            options.MinScale + ((options.MaxScale - options.MinScale) * Unit(state, 4)));
    }

    /// <summary>
    /// Returns <paramref name="batch"/> with its images transformed (a new images tensor; the old one is disposed,
    /// the labels are kept). <paramref name="indices"/> are the dataset indices of the batch's images, in order.
    /// </summary>
    public static DigitBatch Apply(DigitBatch batch, ReadOnlySpan<long> indices, DigitAugmentation options, long seed, int epoch, PixelNormalization? normalization)
    {
        var images = batch.Images;
        var (count, height, width) = ((int)images.shape[0], (int)images.shape[2], (int)images.shape[3]);
        var theta = new double[count * 6];
        for (var i = 0; i < count; i++)
        {
            Theta(Draw(options, seed, epoch, indices[i]), height, width).CopyTo(theta.AsSpan(i * 6, 6));
        }

        Tensor augmented;
        using (var scope = NewDisposeScope())
        {
            // float64 grid and sampling: in float32 the grid's coordinates are off by an ulp (about 1e-6 px at the
            // edge of a 28-pixel image), enough to move pixels by 2e-6 under the identity transform.
            using var thetaTensor = tensor(theta, [count, 2, 3], ScalarType.Float64).to(images.device);
            var grid = nn.functional.affine_grid(thetaTensor, [count, 1, height, width], align_corners: false);

            // Zeros padding means background: with normalisation the background is (0 - mean) / std, so the images
            // are shifted to put it at zero, sampled, and shifted back; sampling is linear, so this equals
            // transforming the [0, 1] pixels and normalising afterwards.
            var background = normalization is null ? 0f : -normalization.Mean / normalization.StandardDeviation;
            var input = images.to(ScalarType.Float64);
            if (background != 0f)
            {
                input.sub_(background);
            }

            var sampled = nn.functional.grid_sample(input, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
            if (background != 0f)
            {
                sampled.add_(background);
            }

            augmented = sampled.to(ScalarType.Float32).MoveToOuterDisposeScope();
        }

        images.Dispose();
        return new DigitBatch(augmented, batch.Labels);
    }

    /// <summary>
    /// The 2×3 matrix <c>affine_grid</c> takes, mapping output to input positions in normalised coordinates, for a
    /// transform that scales and rotates the image about its centre, then shifts it, in pixel units.
    /// </summary>
    internal static double[] Theta(AffineDraw draw, int height, int width)
    {
        // Forward, in pixel coordinates centred on the image: out = Scale * R(angle) * in + shift. affine_grid wants
        // the inverse, in = M * (out - shift) with M = R(-angle) / Scale, expressed in normalised coordinates
        // (x / (W/2), y / (H/2)), so non-square images rotate without shearing.
        var radians = draw.RotationDegrees * Math.PI / 180;
        var (sin, cos) = Math.SinCos(radians);
        var (m00, m01, m10, m11) = (cos / draw.Scale, sin / draw.Scale, -sin / draw.Scale, cos / draw.Scale);
        var (halfW, halfH) = (width / 2.0, height / 2.0);
        return
        [
            m00,
            m01 * halfH / halfW,
            -((m00 * draw.ShiftX) + (m01 * draw.ShiftY)) / halfW,
            m10 * halfW / halfH,
            m11,
            -((m10 * draw.ShiftX) + (m11 * draw.ShiftY)) / halfH,
        ];
    }

    // A uniform draw in [0, 1) with 53 bits, the k-th of the image's stream.
    private static double Unit(ulong state, int k) => (SeededShuffle.Mix(unchecked(state + ((ulong)k * Golden))) >> 11) * (1.0 / (1UL << 53));

    private static double Symmetric(ulong state, int k, double max) => max * ((2 * Unit(state, k)) - 1);
}
