using System.Numerics;
using System.Runtime.CompilerServices;
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

    [MethodImpl(MethodImplOptions.NoInlining)]
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
                Update(
                    CpuTensors.Floats(parameter),
                    CpuTensors.Floats(grad),
                    CpuTensors.Floats(state.exp_avg),
                    CpuTensors.Floats(state.exp_avg_sq),
                    (float)beta1,
                    (float)(1 - beta1),
                    (float)beta2,
                    (float)(1 - beta2),
                    (float)Math.Sqrt(biasCorrection2),
                    (float)epsilon,
                    (float)(-group.LearningRate / biasCorrection1));
            }
        }
    }

    // The element-wise update, in the order of TorchSharp's (and PyTorch's) tensor calls.
    private static void Update(
        Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2, float biasCorrection2Sqrt, float epsilon, float negativeStepSize)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<float>.Count;
            var (vb1, v1b1, vb2, v1b2) = (new Vector<float>(beta1), new Vector<float>(oneMinusBeta1), new Vector<float>(beta2),
                new Vector<float>(oneMinusBeta2));
            var (vbc2, veps, vstep) = (new Vector<float>(biasCorrection2Sqrt), new Vector<float>(epsilon), new Vector<float>(negativeStepSize));
            for (; i <= p.Length - width; i += width)
            {
                var gi = new Vector<float>(g[i..]);
                var mi = (new Vector<float>(m[i..]) * vb1) + (v1b1 * gi);
                var vi = (new Vector<float>(v[i..]) * vb2) + (v1b2 * (gi * gi));
                var denominator = (Vector.SquareRoot(vi) / vbc2) + veps;
                var pi = new Vector<float>(p[i..]) + (vstep * (mi / denominator));
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
                pi.CopyTo(p[i..]);
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
}
