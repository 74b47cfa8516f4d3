using BenchmarkDotNet.Attributes;
using MnistCnn.Core.Engine;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// The case study's sigmoid pass (<see cref="CaseStudyForward.SigmoidInPlace"/>) over one image's 3,456 conv2 sums, at the
/// widest width this machine accelerates and at 256 bits (<see cref="VectorWidth.Limit"/>), in one run: the same bits,
/// in different times where AVX-512 is accelerated (`./build.sh bench micro --filter '*Sigmoid*'`).
/// </summary>
public class SigmoidBenchmarks
{
    private readonly float[] _sums = new float[CaseStudyForward.Features];
    private readonly float[] _values = new float[CaseStudyForward.Features];

    /// <summary>Sums spread like conv2's: mostly within ±8, a few far out.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        for (var i = 0; i < _sums.Length; i++)
        {
            _sums[i] = (float)((random.NextDouble() * 16) - 8) * (i % 97 == 0 ? 20 : 1);
        }
    }

    /// <summary>The pass at the widest accelerated width (512 bits with AVX-512).</summary>
    [Benchmark(Baseline = true)]
    public float Widest()
    {
        _sums.CopyTo(_values, 0);
        CaseStudyForward.SigmoidInPlace(_values);
        return _values[^1];
    }

    /// <summary>The pass at 256 bits, as an AVX2-only machine runs it.</summary>
    [Benchmark]
    public float At256Bits()
    {
        _sums.CopyTo(_values, 0);
        using (VectorWidth.Limit(256))
        {
            CaseStudyForward.SigmoidInPlace(_values);
        }

        return _values[^1];
    }
}
