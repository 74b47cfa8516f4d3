using System.Globalization;
using MnistCnn.Core.Engine;

namespace MnistCnn.Core.Tests.Engine;

/// <summary>
/// <see cref="Gemm"/> against a float64 reference, at every vector width this machine accelerates: each element
/// within 1e-5 of the reference, relative to the sum of the magnitudes it adds up (<c>|C0| + Σ|A·B|</c>, the
/// scale float32 rounding error grows with); the narrower widths within 1e-6 of the widest; repeated calls bit
/// for bit the same; padding between rows neither read (it holds NaN) nor written.
/// </summary>
[Collection(VectorWidthState.Name)]
public sealed class GemmTests
{
    private const double Tolerance = 1e-5;
    private const double WidthTolerance = 1e-6;
    private static readonly int[] OddSizes = [1, 3, 7, 17, 63];

    public enum Variant
    {
        Plain,
        TransposedA,
        TransposedB,
    }

    private static int[] Widths { get; } = [.. new[] { 512, 256, 128, 0 }.Where(w => w <= VectorWidth.HardwareBits)];

    [Theory]
    [InlineData(Variant.Plain, false)]
    [InlineData(Variant.Plain, true)]
    [InlineData(Variant.TransposedA, false)]
    [InlineData(Variant.TransposedA, true)]
    [InlineData(Variant.TransposedB, false)]
    [InlineData(Variant.TransposedB, true)]
    public void Multiply_OddSizes_MatchFloat64AtEveryWidth(Variant variant, bool accumulate)
    {
        var cases = 0;
        foreach (var m in OddSizes)
        {
            foreach (var n in OddSizes)
            {
                foreach (var k in OddSizes)
                {
                    // Tight rows, and rows with padding (longer than any vector) between them.
                    Check(variant, m, n, k, pad: cases % 2 == 0 ? 0 : 19, accumulate);
                    cases++;
                }
            }
        }

        cases.Should().Be(125);
    }

    [Theory]
    [InlineData(Variant.Plain, 20, 576, 25)] // conv1 forward, per image: W·cols
    [InlineData(Variant.Plain, 50, 64, 500)] // conv2 forward
    [InlineData(Variant.Plain, 64, 800, 500)] // linear input gradient over a batch: dY·W
    [InlineData(Variant.TransposedA, 25, 576, 20)] // conv1 input gradient: Wᵀ·dY
    [InlineData(Variant.TransposedA, 500, 64, 50)] // conv2 input gradient
    [InlineData(Variant.TransposedA, 500, 800, 64)] // linear weight gradient: dYᵀ·X
    [InlineData(Variant.TransposedB, 64, 500, 800)] // linear forward over a batch: X·Wᵀ
    [InlineData(Variant.TransposedB, 64, 10, 500)]
    [InlineData(Variant.TransposedB, 20, 25, 576)] // conv1 weight gradient: dY·colsᵀ
    [InlineData(Variant.TransposedB, 50, 500, 64)] // conv2 weight gradient
    [InlineData(Variant.Plain, 500, 800, 7)]
    [InlineData(Variant.TransposedA, 7, 500, 800)]
    [InlineData(Variant.TransposedB, 800, 17, 500)]
    [InlineData(Variant.TransposedB, 1, 800, 63)]
    public void Multiply_NetworkShapes_MatchFloat64AtEveryWidth(Variant variant, int m, int n, int k)
    {
        Check(variant, m, n, k, pad: 0, accumulate: false);
        Check(variant, m, n, k, pad: 33, accumulate: true);
    }

    [Theory]
    [InlineData(Variant.Plain)]
    [InlineData(Variant.TransposedA)]
    [InlineData(Variant.TransposedB)]
    public void Multiply_ColumnBlocks_EqualTheWholeProductBitForBit(Variant variant)
    {
        // Threads that split a product into column blocks must get the single-threaded result exactly: an element's
        // sum cannot depend on which tile or vector width computed it.
        const int m = 50, n = 500, k = 64;
        var random = new Random(5);
        var (aRows, aColumns) = variant == Variant.TransposedA ? (k, m) : (m, k);
        var (bRows, bColumns) = variant == Variant.TransposedB ? (n, k) : (k, n);
        var a = Matrix(random, aRows, aColumns, aColumns);
        var b = Matrix(random, bRows, bColumns, bColumns);
        var initial = Matrix(random, m, n, n);
        foreach (var bits in Widths)
        {
            using var width = VectorWidth.Limit(bits);
            var whole = (float[])initial.Clone();
            Call(variant, m, n, k, a, aColumns, b, bColumns, whole, n, accumulate: true);

            var blocks = (float[])initial.Clone();
            foreach (var (start, end) in new[] { (0, 37), (37, 250), (250, 499), (499, 500) })
            {
                var bBlock = variant == Variant.TransposedB ? b.AsSpan(start * k) : b.AsSpan(start);
                Call(variant, m, end - start, k, a, aColumns, bBlock, bColumns, blocks.AsSpan(start), n, accumulate: true);
            }

            blocks.Should().Equal(whole, $"column blocks at width {bits} must give the whole product's bits");
        }
    }

    [Theory]
    [InlineData(Variant.Plain)]
    [InlineData(Variant.TransposedA)]
    [InlineData(Variant.TransposedB)]
    public void Multiply_KIsZero_ClearsOrKeepsC(Variant variant)
    {
        var c = new[] { 1f, 2f, 3f, 4f, 5f, 6f };

        Call(variant, 2, 3, 0, [], 3, [], 3, c, 3, accumulate: true);
        c.Should().Equal(1f, 2f, 3f, 4f, 5f, 6f);

        Call(variant, 2, 3, 0, [], 3, [], 3, c, 3, accumulate: false);
        c.Should().OnlyContain(x => x == 0f);
    }

    [Fact]
    public void Multiply_EmptyResult_TouchesNothing()
    {
        var c = new[] { 7f };

        Gemm.Multiply(0, 1, 4, [], 4, new float[4], 1, c, 1, accumulate: false);
        Gemm.Multiply(1, 0, 4, new float[4], 4, [], 0, c, 1, accumulate: false);

        c.Should().Equal(7f);
    }

    [Fact]
    public void Multiply_SecondCall_AllocatesNothing()
    {
        var a = new float[64 * 800];
        var b = new float[500 * 800];
        var c = new float[64 * 500];
        Gemm.MultiplyTransposedB(64, 500, 800, a, 800, b, 800, c, 500, accumulate: false);
        Gemm.Multiply(64, 500, 800, a, 800, b, 500, c, 500, accumulate: false);
        Gemm.MultiplyTransposedA(500, 64, 64, a, 500, b, 64, c, 64, accumulate: true);

        var before = GC.GetAllocatedBytesForCurrentThread();
        Gemm.MultiplyTransposedB(64, 500, 800, a, 800, b, 800, c, 500, accumulate: false);
        Gemm.Multiply(64, 500, 800, a, 800, b, 500, c, 500, accumulate: false);
        Gemm.MultiplyTransposedA(500, 64, 64, a, 500, b, 64, c, 64, accumulate: true);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().Be(0);
    }

    [Fact]
    public void Multiply_BadArguments_ThrowNamingTheArgument()
    {
        var nine = new float[9];

        FluentActions.Invoking(() => Gemm.Multiply(-1, 3, 3, nine, 3, nine, 3, new float[9], 3, false))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("m");
        FluentActions.Invoking(() => Gemm.Multiply(3, 3, 3, nine, 2, nine, 3, new float[9], 3, false))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lda");
        FluentActions.Invoking(() => Gemm.Multiply(3, 3, 3, nine, 3, new float[8], 3, new float[9], 3, false))
            .Should().Throw<ArgumentException>().WithParameterName("b");
        FluentActions.Invoking(() => Gemm.MultiplyTransposedA(2, 3, 3, nine, 1, nine, 3, new float[9], 3, false))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lda");
        FluentActions.Invoking(() => Gemm.MultiplyTransposedB(3, 3, 4, new float[12], 4, nine, 3, new float[9], 3, false))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("ldb");
        FluentActions.Invoking(() => Gemm.MultiplyTransposedB(3, 3, 3, nine, 3, nine, 3, new float[8], 3, false))
            .Should().Throw<ArgumentException>().WithParameterName("c");
    }

    /// <summary>Multiplies one random case at every width and checks it as the class summary says.</summary>
    private static void Check(Variant variant, int m, int n, int k, int pad, bool accumulate)
    {
        var random = new Random(HashCode.Combine(variant, m, n, k, pad, accumulate) & 0x7fffffff);
        var (aRows, aColumns) = variant == Variant.TransposedA ? (k, m) : (m, k);
        var (bRows, bColumns) = variant == Variant.TransposedB ? (n, k) : (k, n);
        int lda = aColumns + pad, ldb = bColumns + pad, ldc = n + pad;
        var a = Matrix(random, aRows, aColumns, lda);
        var b = Matrix(random, bRows, bColumns, ldb);
        var initial = accumulate ? Matrix(random, m, n, ldc) : Padded(m, n, ldc, float.NaN);

        var expected = new double[m * n];
        var scale = new double[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double sum = accumulate ? initial[(i * ldc) + j] : 0, size = Math.Abs(sum);
                for (var p = 0; p < k; p++)
                {
                    var product = (double)A(p, i) * B(p, j);
                    sum += product;
                    size += Math.Abs(product);
                }

                expected[(i * n) + j] = sum;
                scale[(i * n) + j] = size;
            }
        }

        float[]? widest = null;
        foreach (var bits in Widths)
        {
            var c = (float[])initial.Clone();
            using (VectorWidth.Limit(bits))
            {
                Call(variant, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            }

            var label = string.Create(CultureInfo.InvariantCulture, $"{variant} m={m} n={n} k={k} pad={pad} accumulate={accumulate} width={bits}");
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    var error = Math.Abs(c[(i * ldc) + j] - expected[(i * n) + j]);
                    if (!(error <= Tolerance * scale[(i * n) + j]))
                    {
                        Assert.Fail($"{label}: C[{i}, {j}] = {c[(i * ldc) + j]}, float64 {expected[(i * n) + j]}, error {error} over scale {scale[(i * n) + j]}");
                    }

                    if (widest is not null)
                    {
                        var fromWidest = Math.Abs(c[(i * ldc) + j] - widest[(i * ldc) + j]);
                        if (!(fromWidest <= WidthTolerance * scale[(i * n) + j]))
                        {
                            Assert.Fail($"{label}: C[{i}, {j}] = {c[(i * ldc) + j]}, widest width {widest[(i * ldc) + j]}");
                        }
                    }
                }

                for (var j = n; j < ldc && (i * ldc) + j < c.Length; j++)
                {
                    if (BitConverter.SingleToInt32Bits(c[(i * ldc) + j]) != BitConverter.SingleToInt32Bits(initial[(i * ldc) + j]))
                    {
                        Assert.Fail($"{label}: the padding after row {i} was written");
                    }
                }
            }

            var again = (float[])initial.Clone();
            using (VectorWidth.Limit(bits))
            {
                Call(variant, m, n, k, a, lda, b, ldb, again, ldc, accumulate);
            }

            if (!again.AsSpan().SequenceEqual(c))
            {
                Assert.Fail($"{label}: a repeated call gave different bits");
            }

            widest ??= c;
        }

        float A(int p, int i) => variant == Variant.TransposedA ? a[(p * lda) + i] : a[(i * lda) + p];

        float B(int p, int j) => variant == Variant.TransposedB ? b[(j * ldb) + p] : b[(p * ldb) + j];
    }

    private static void Call(Variant variant, int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        switch (variant)
        {
            case Variant.Plain:
                Gemm.Multiply(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            case Variant.TransposedA:
                Gemm.MultiplyTransposedA(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            default:
                Gemm.MultiplyTransposedB(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
        }
    }

    /// <summary>Random values in [-1, 1) in a rows x columns matrix; the padding between rows is NaN.</summary>
    private static float[] Matrix(Random random, int rows, int columns, int stride)
    {
        var matrix = Padded(rows, columns, stride, float.NaN);
        for (var r = 0; r < rows; r++)
        {
            for (var col = 0; col < columns; col++)
            {
                matrix[(r * stride) + col] = (float)((random.NextDouble() * 2) - 1);
            }
        }

        return matrix;
    }

    /// <summary>A buffer as long as the rows need (the last row is not padded), every float <paramref name="value"/>.</summary>
    private static float[] Padded(int rows, int columns, int stride, float value)
    {
        var matrix = new float[rows == 0 ? 0 : ((rows - 1) * stride) + columns];
        matrix.AsSpan().Fill(value);
        return matrix;
    }
}
