using System.Diagnostics;

namespace MnistCnn.Core.Engine;

/// <summary>What part of a training step a profiled interval belongs to (with the layer it ran for).</summary>
internal enum StepPart
{
    /// <summary>A layer's forward pass (a convolution's im2col, product and bias; a pool; an activation; a linear layer).</summary>
    Forward,

    /// <summary>A convolution's weight and bias gradients (its im2col and <c>dY·colsᵀ</c>), or a linear layer's <c>dYᵀ·X</c> with its input gradient.</summary>
    WeightGradient,

    /// <summary>A convolution's <c>Wᵀ·dY</c>.</summary>
    InputGradient,

    /// <summary>A convolution's col2im.</summary>
    Col2Im,

    /// <summary>A pool's or an activation's backward pass.</summary>
    Backward,

    /// <summary>The loss and the logits' gradient (layer -1).</summary>
    Loss,

    /// <summary>The sum of the convolutions' per-image gradients (layer -1).</summary>
    Reduce,

    /// <summary>Prediction: a convolution's input rearranged for its product (im2col, or the planes a direct kernel reads).</summary>
    PredictColumns,

    /// <summary>Prediction: a layer's product (a convolution's or a linear layer's multiply-adds).</summary>
    PredictProduct,

    /// <summary>Prediction: what follows a product (bias, ReLU, max-pool), or a layer that is nothing else.</summary>
    PredictEpilogue,
}

/// <summary>
/// Optional timing of a training step's (or a prediction's) parts per layer, for the benchmarks' profiles: off unless
/// <see cref="Enabled"/> is set; then every thread adds its intervals to its own counters, summed by <see cref="Collect"/>.
/// </summary>
internal static class StepProfiler
{
    private const int Parts = 10;

    private static readonly List<long[]> AllCounters = [];

    [ThreadStatic]
    private static long[]? _counters;

    /// <summary>Whether the passes time their parts (set before a step, not during one).</summary>
    public static bool Enabled { get; set; }

    /// <summary>The timestamp to pass to <see cref="Stop"/>, or 0 when profiling is off.</summary>
    public static long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Adds the time since <paramref name="start"/> to the part's counter; returns the timestamp now (the next part's start).</summary>
    public static long Stop(StepPart part, int layer, long start)
    {
        if (!Enabled)
        {
            return 0;
        }

        var now = Stopwatch.GetTimestamp();
        var counters = _counters ??= Register();
        counters[((layer + 1) * Parts) + (int)part] += now - start;
        return now;
    }

    /// <summary>Seconds per (layer, part) summed over every thread since the last reset; layer -1 is the step's own work.</summary>
    public static Dictionary<(int Layer, StepPart Part), double> Collect(bool reset)
    {
        var totals = new Dictionary<(int, StepPart), double>();
        lock (AllCounters)
        {
            foreach (var counters in AllCounters)
            {
                for (var i = 0; i < counters.Length; i++)
                {
                    if (counters[i] != 0)
                    {
                        var key = ((i / Parts) - 1, (StepPart)(i % Parts));
                        totals[key] = totals.GetValueOrDefault(key) + ((double)counters[i] / Stopwatch.Frequency);
                        if (reset)
                        {
                            counters[i] = 0;
                        }
                    }
                }
            }
        }

        return totals;
    }

    private static long[] Register()
    {
        var counters = new long[64 * Parts];
        lock (AllCounters)
        {
            AllCounters.Add(counters);
        }

        return counters;
    }
}
