using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MnistCnn.Core.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// TorchSharp's Adam whose update of float32, contiguous CPU parameters runs as one vectorised managed pass
/// per parameter instead of about ten torch calls. Same state objects (so checkpoints are unchanged), same
/// arithmetic in float32 (PyTorch's single-tensor Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²;
/// p -= lr/(1-b1^t) · m / (sqrt(v)/sqrt(1-b2^t) + eps)), results equal to within float32 rounding.
/// </summary>
/// <remarks>
/// Why: the case study's network has only 34,768 weights, so a step's update is ~0.5 MFLOP while each of
/// TorchSharp's ~60 per-step calls costs a native transition, allocations for the temporaries, and (for
/// the 34,560-element linear weight, above torch's parallel grain) an OpenMP fork/join, which on a busy
/// 2-core machine can stall for milliseconds. Anything unusual (CUDA, weight decay, AMSGrad, maximize, a
/// closure, another dtype or layout) falls back to TorchSharp's implementation, and says so once in the log.
/// <para>
/// The fused update reads TorchSharp's protected Adam state (<c>_state</c>, <c>State.step</c>,
/// <c>exp_avg</c>, <c>exp_avg_sq</c>), which a TorchSharp 0.x release may change. The package declares the
/// TorchSharp range it is tested with; if an application still runs it on a TorchSharp whose state differs
/// (a missing member, another state type, moments of another size), the fused update is switched off for
/// this optimizer with a warning, and TorchSharp's own step runs instead.
/// </para>
/// </remarks>
internal sealed class FusedAdam : Adam
{
    /// <summary>Elements from which a parameter's update is shared among the threads.</summary>
    private const int ParallelLength = 16_384;

    private readonly ILogger _logger;
    private bool _fusionDisabled;
    private string? _lastFallbackReason;

    public FusedAdam(IEnumerable<Parameter> parameters, double learningRate, double beta1, double beta2, double epsilon, double weightDecay,
        ILogger? logger = null)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay, amsgrad: false, maximize: false)
    {
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Steps that ran the fused managed update.</summary>
    internal long FusedSteps { get; private set; }

    /// <summary>Steps that ran TorchSharp's own update.</summary>
    internal long FallbackSteps { get; private set; }

    /// <inheritdoc/>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        if (closure is not null)
        {
            return Fallback(closure, "a closure was given", unexpected: false);
        }

        if (_fusionDisabled)
        {
            return Fallback(null, _lastFallbackReason!, unexpected: true);
        }

        // The members of TorchSharp's Adam the fused path reads are bound when these methods are compiled: a
        // TorchSharp without them throws here, before any state changed, and its own step takes over for good.
        try
        {
            var (fusable, reason, unexpected) = CheckFusable();
            if (!fusable)
            {
                return Fallback(null, reason!, unexpected);
            }

            FusedStep();
        }
        catch (Exception e) when (e is MissingMemberException or TypeLoadException or InvalidCastException)
        {
            _fusionDisabled = true;
            return Fallback(null, $"{e.GetType().Name}: {e.Message}", unexpected: true);
        }

        FusedSteps++;
        return null!;
    }

    private Tensor Fallback(Func<Tensor>? closure, string reason, bool unexpected)
    {
        if (reason != _lastFallbackReason)
        {
            _lastFallbackReason = reason;
            if (unexpected)
            {
                TrainerLog.FusedAdamStateUnexpected(_logger, reason);
            }
            else
            {
                TrainerLog.FusedAdamNotApplicable(_logger, reason);
            }
        }

        FallbackSteps++;
        return base.step(closure);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void FusedStep()
    {
        foreach (var group in _parameter_groups)
        {
            var options = (Options)group.Options;
            var (beta1, beta2, epsilon) = (options.beta1!.Value, options.beta2!.Value, options.eps!.Value);
            foreach (var parameter in group.Parameters)
            {
                if (parameter.grad is not { } grad)
                {
                    continue;
                }

                var state = (State)_state[parameter.Handle];
                state.step++;
                var biasCorrection1 = 1 - Math.Pow(beta1, state.step);
                var biasCorrection2 = 1 - Math.Pow(beta2, state.step);
                var constants = new Constants(
                    (float)beta1,
                    (float)(1 - beta1),
                    (float)beta2,
                    (float)(1 - beta2),
                    (float)Math.Sqrt(biasCorrection2),
                    (float)epsilon,
                    (float)(-group.LearningRate / biasCorrection1));
                var length = (int)parameter.NumberOfElements;
                var threads = length >= ParallelLength ? Math.Max(1, get_num_threads()) : 1;
                if (threads == 1)
                {
                    Update(
                        CpuTensors.Floats(parameter), CpuTensors.Floats(grad), CpuTensors.Floats(state.exp_avg), CpuTensors.Floats(state.exp_avg_sq),
                        constants);
                    continue;
                }

                // A large parameter (the case study's linear weight: 34,560 of its 34,768) is cut into one piece a thread;
                // every element's update is its own, so the pieces give the same bits as one pass.
                var update = new Pieces(
                    CpuTensors.Address(parameter), CpuTensors.Address(grad), CpuTensors.Address(state.exp_avg), CpuTensors.Address(state.exp_avg_sq),
                    length, threads, constants);
                WorkItems.Run(threads, threads, update.Run);
            }
        }
    }

    // The element-wise update, in the order of TorchSharp's (and PyTorch's) tensor calls.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Update(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in Constants constants)
    {
        var (beta1, oneMinusBeta1, beta2, oneMinusBeta2, biasCorrection2Sqrt, epsilon, negativeStepSize) = constants;
        var i = 0;
        if (Vector.IsHardwareAccelerated && p.Length >= Vector<float>.Count)
        {
            // Whole vectors through references: no slice or bounds check per vector (measured alone, 34,560 elements:
            // 17-26 us with slices, 14-15 us so).
            ref var pr = ref MemoryMarshal.GetReference(p);
            ref var gr = ref MemoryMarshal.GetReference(g);
            ref var mr = ref MemoryMarshal.GetReference(m);
            ref var vr = ref MemoryMarshal.GetReference(v);
            var width = Vector<float>.Count;
            var (vb1, v1b1, vb2, v1b2) = (new Vector<float>(beta1), new Vector<float>(oneMinusBeta1), new Vector<float>(beta2),
                new Vector<float>(oneMinusBeta2));
            var (vbc2, veps, vstep) = (new Vector<float>(biasCorrection2Sqrt), new Vector<float>(epsilon), new Vector<float>(negativeStepSize));
            for (; i <= p.Length - width; i += width)
            {
                var at = (nuint)i;
                var gi = Vector.LoadUnsafe(ref gr, at);
                var mi = (Vector.LoadUnsafe(ref mr, at) * vb1) + (v1b1 * gi);
                var vi = (Vector.LoadUnsafe(ref vr, at) * vb2) + (v1b2 * (gi * gi));
                var denominator = (Vector.SquareRoot(vi) / vbc2) + veps;
                var pi = Vector.LoadUnsafe(ref pr, at) + (vstep * (mi / denominator));
                mi.StoreUnsafe(ref mr, at);
                vi.StoreUnsafe(ref vr, at);
                pi.StoreUnsafe(ref pr, at);
            }
        }

        for (; i < p.Length; i++)
        {
            var gi = g[i];
            var mi = (m[i] * beta1) + (oneMinusBeta1 * gi);
            var vi = (v[i] * beta2) + (oneMinusBeta2 * (gi * gi));
            var denominator = (MathF.Sqrt(vi) / biasCorrection2Sqrt) + epsilon;
            p[i] += negativeStepSize * (mi / denominator);
            m[i] = mi;
            v[i] = vi;
        }
    }

    // Whether every parameter can take the fused update; if not, why, and whether the reason is TorchSharp's
    // state looking other than expected (rather than a configuration the fused update does not cover).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private (bool Fusable, string? Reason, bool Unexpected) CheckFusable()
    {
        foreach (var group in _parameter_groups)
        {
            if (group.Options is not Options options || options.beta1 is null || options.beta2 is null || options.eps is null)
            {
                return (false, $"the parameter group's options are {group.Options?.GetType().FullName ?? "null"}, not Adam's with betas and eps", true);
            }

            if (options.amsgrad == true || options.maximize == true || options.weight_decay is not 0)
            {
                return (false, "AMSGrad, maximize or weight decay is set", false);
            }

            foreach (var parameter in group.Parameters)
            {
                if (parameter.grad is not { } grad)
                {
                    continue;
                }

                if (!_state.TryGetValue(parameter.Handle, out var found) || found is not State state)
                {
                    return (false, $"the state of a parameter is {found?.GetType().FullName ?? "missing"}, not {typeof(State).FullName}", true);
                }

                if (!Fusable(parameter) || !Fusable(grad))
                {
                    return (false, "a parameter or its gradient is not a contiguous float32 CPU tensor", false);
                }

                if (!Fusable(state.exp_avg) || !Fusable(state.exp_avg_sq)
                    || state.exp_avg.NumberOfElements != parameter.NumberOfElements
                    || state.exp_avg_sq.NumberOfElements != parameter.NumberOfElements
                    || grad.NumberOfElements != parameter.NumberOfElements)
                {
                    return (false, "a parameter's moments are not contiguous float32 CPU tensors of its size", true);
                }
            }
        }

        return (true, null, false);
    }

    private static bool Fusable(Tensor? t) => t is not null && CpuTensors.IsCpuFloat32(t);

    /// <summary>The update's scalars, in float32 as PyTorch's single-tensor Adam uses them.</summary>
    private readonly record struct Constants(
        float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2, float BiasCorrection2Sqrt, float Epsilon, float NegativeStepSize);

    /// <summary>
    /// One parameter's update in <c>count</c> pieces that each start a cache line (spans cannot cross into the work items).
    /// </summary>
    private sealed unsafe class Pieces(nint parameter, nint gradient, nint average, nint averageSquare, int length, int count, Constants constants)
    {
        private const int Line = AlignedBuffer.AlignmentFloats;
        private readonly int _pieceLength = (((length + count - 1) / count) + Line - 1) / Line * Line;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int piece)
        {
            var from = Math.Min(length, piece * _pieceLength);
            var size = Math.Min(length - from, _pieceLength);
            Update(
                new Span<float>((float*)parameter + from, size),
                new ReadOnlySpan<float>((float*)gradient + from, size),
                new Span<float>((float*)average + from, size),
                new Span<float>((float*)averageSquare + from, size),
                constants);
        }
    }
}
