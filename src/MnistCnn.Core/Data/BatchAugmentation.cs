using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Data;

/// <summary>The affine parameters drawn for one image: shifts in pixels (x right, y down), rotation in degrees, scale factor.</summary>
internal readonly record struct AffineDraw(double ShiftX, double ShiftY, double RotationDegrees, double Scale);

/// <summary>
/// Applies a <see cref="DigitAugmentation"/> to a batch: one affine transform per image, drawn from a counter-based
/// SplitMix64 stream keyed by (seed, epoch, dataset index), then <c>affine_grid</c> + <c>grid_sample</c>: in managed
/// code for CPU batches (<see cref="AffineSampler"/>), by torch on other devices.
/// </summary>
internal static class BatchAugmentation
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    // Keeps augmentation draws apart from the shuffle's stream for the same (seed, epoch).
    private const ulong Domain = 0xA0761D6478BD642FUL;

    // Keeps an image's elastic field apart from its affine draws.
    private const ulong ElasticDomain = 0xE7037ED1A0B428DBUL;

    /// <summary>The parameters of the image at dataset <paramref name="index"/> in <paramref name="epoch"/> of a run
    /// seeded with <paramref name="seed"/>.</summary>
    public static AffineDraw Draw(DigitAugmentation options, long seed, int epoch, long index)
    {
        var state = ImageState(seed, epoch, index);
        return new AffineDraw(
            Symmetric(state, 1, options.MaxShift),
            Symmetric(state, 2, options.MaxShift),
            Symmetric(state, 3, options.MaxRotationDegrees),
            options.MinScale + ((options.MaxScale - options.MinScale) * Unit(state, 4)));
    }

    /// <summary>
    /// The elastic field of the image at dataset <paramref name="index"/> before smoothing: <c>[2, H, W]</c> (x then y
    /// displacements) of uniform draws from [-1, 1], written to <paramref name="destination"/>.
    /// </summary>
    public static void DrawElasticField(long seed, int epoch, long index, Span<double> destination)
    {
        var state = SeededShuffle.Mix(ImageState(seed, epoch, index) ^ ElasticDomain);
        for (var k = 0; k < destination.Length; k++)
        {
            destination[k] = (2 * Unit(state, k + 1)) - 1;
        }
    }

    /// <summary>
    /// Returns <paramref name="batch"/> with its images transformed (a new images tensor; the old one is disposed,
    /// the labels are kept). <paramref name="indices"/> are the dataset indices of the batch's images, in order.
    /// A batch on the CPU is transformed in managed code (<see cref="AffineSampler"/>, equal to torch's result bit for
    /// bit); a batch on another device is transformed there by torch (<see cref="ApplyWithTorch"/>).
    /// </summary>
    public static DigitBatch Apply(DigitBatch batch, ReadOnlySpan<long> indices, DigitAugmentation options, long seed, int epoch,
        PixelNormalization? normalization)
    {
        var images = batch.Images;
        if (images.device_type != DeviceType.CPU || images.dtype != ScalarType.Float32 || !images.is_contiguous())
        {
            return ApplyWithTorch(batch, indices, options, seed, epoch, normalization);
        }

        var (count, height, width) = ((int)images.size(0), (int)images.size(2), (int)images.size(3));
        var plane = height * width;
        var sampler = new AffineSampler(height, width);
        var displacement = options.ElasticAlpha > 0 ? new double[plane * 2] : null;
        var smoothing = displacement is null ? null : new ElasticSmoothing(options, height, width);
        var background = Background(normalization);
        var augmented = empty([count, 1, height, width], ScalarType.Float32);
        var source = MemoryMarshal.Cast<byte, float>(images.bytes);
        var destination = MemoryMarshal.Cast<byte, float>(augmented.bytes);
        for (var i = 0; i < count; i++)
        {
            if (smoothing is not null)
            {
                smoothing.Displacement(seed, epoch, indices[i], displacement);
            }

            sampler.Sample(
                source.Slice(i * plane, plane),
                destination.Slice(i * plane, plane),
                Theta(Draw(options, seed, epoch, indices[i]), height, width),
                displacement,
                background);
        }

        images.Dispose();
        return new DigitBatch(augmented, batch.Labels);
    }

    /// <summary>
    /// <see cref="Apply"/> by torch's <c>affine_grid</c> + <c>grid_sample</c> on the batch's device (used for batches
    /// that live on an accelerator, and by tests as the reference the managed path is held to).
    /// </summary>
    internal static DigitBatch ApplyWithTorch(
        DigitBatch batch, ReadOnlySpan<long> indices, DigitAugmentation options, long seed, int epoch, PixelNormalization? normalization)
    {
        var images = batch.Images;
        var (count, height, width) = ((int)images.size(0), (int)images.size(2), (int)images.size(3));
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
            if (options.ElasticAlpha > 0)
            {
                grid.add_(ElasticDisplacement(indices, options, seed, epoch, height, width, images.device));
            }

            // Zeros padding means background: with normalisation the background is (0 - mean) / std, so the images
            // are shifted to put it at zero, sampled, and shifted back; sampling is linear, so this equals
            // transforming the [0, 1] pixels and normalising afterwards.
            var background = Background(normalization);
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

    private static float Background(PixelNormalization? normalization) =>
        normalization is null ? 0f : -normalization.Mean / normalization.StandardDeviation;

    /// <summary>
    /// The elastic displacements of the batch in <c>grid_sample</c>'s normalised coordinates, <c>[B, H, W, 2]</c>
    /// float64: the drawn fields smoothed by a separable Gaussian (zeros beyond the edges) and scaled by alpha.
    /// </summary>
    private static Tensor ElasticDisplacement(ReadOnlySpan<long> indices, DigitAugmentation options, long seed, int epoch, int height, int width, Device device)
    {
        var count = indices.Length;
        var plane = height * width;
        var field = new double[count * 2 * plane];
        for (var i = 0; i < count; i++)
        {
            DrawElasticField(seed, epoch, indices[i], field.AsSpan(i * 2 * plane, 2 * plane));
        }

        var kernel = ElasticSmoothing.Kernel(options.ElasticSigma);
        var radius = kernel.Length / 2;
        var raw = tensor(field, [count * 2, 1, height, width], ScalarType.Float64).to(device);
        var row = tensor(kernel, [1, 1, 1, kernel.Length], ScalarType.Float64).to(device);
        var column = tensor(kernel, [1, 1, kernel.Length, 1], ScalarType.Float64).to(device);
        var smooth = nn.functional.conv2d(nn.functional.conv2d(raw, row, padding: [0, radius]), column, padding: [radius, 0]);

        // Pixels to normalised units: one pixel is 2 / W along x and 2 / H along y.
        var scale = tensor(new[] { options.ElasticAlpha * 2 / width, options.ElasticAlpha * 2 / height }, ScalarType.Float64).to(device);
        return smooth.view(count, 2, height, width).permute(0, 2, 3, 1).mul(scale);
    }

    private static ulong ImageState(long seed, int epoch, long index)
    {
        var key = SeededShuffle.Mix(SeededShuffle.Mix((ulong)seed ^ Domain) ^ SeededShuffle.Mix(unchecked((ulong)epoch + Golden)));
        return SeededShuffle.Mix(key ^ SeededShuffle.Mix(unchecked((ulong)index + (2 * Golden))));
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
    private static double Unit(ulong state, long k) => (SeededShuffle.Mix(unchecked(state + ((ulong)k * Golden))) >> 11) * (1.0 / (1UL << 53));

    private static double Symmetric(ulong state, int k, double max) => max * ((2 * Unit(state, k)) - 1);
}
