using MnistCnn.Core.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// Gradient clipping by total L2 norm, as <c>torch.nn.utils.clip_grad_norm_</c> does it: when the norm of all
/// gradients together exceeds the maximum, every gradient is multiplied by <c>max / (norm + 1e-6)</c>.
/// </summary>
/// <remarks>
/// Why a managed pass: libtorch's <c>clip_grad_norm_</c> makes about fifteen tensor calls per step (a norm per
/// parameter, a stack, a norm, a division, a clamp, a multiplication per parameter), which for the case study's
/// small network cost several times the fused step itself on a busy 2-core machine. When every gradient is a
/// contiguous float32 CPU tensor, the norm is summed here in double precision and the gradients are scaled in
/// place only when the norm exceeds the maximum (libtorch multiplies by 1 otherwise, which changes nothing).
/// The norm may differ from libtorch's float32 one in its last digits, and the scaled gradients with it; any
/// other gradient (CUDA, another dtype or layout) goes through libtorch's function.
/// </remarks>
internal static class GradientClipping
{
    /// <summary>Clips the gradients of the optimizer's parameters to <paramref name="maxNorm"/>; returns their total norm before clipping.</summary>
    /// <remarks>The gradient tensors it reads belong to the caller's dispose scope.</remarks>
    public static double Clip(OptimizerHelper optimizer, double maxNorm)
    {
        var gradients = new List<Tensor>();
        foreach (var parameter in optimizer.parameters())
        {
            if (parameter.grad is not { } grad)
            {
                continue;
            }

            if (!CpuTensors.IsCpuFloat32(grad))
            {
                return nn.utils.clip_grad_norm_(optimizer.parameters(), maxNorm);
            }

            gradients.Add(grad);
        }

        var sumOfSquares = 0.0;
        foreach (var grad in gradients)
        {
            foreach (var g in CpuTensors.Floats(grad))
            {
                sumOfSquares += (double)g * g;
            }
        }

        var norm = Math.Sqrt(sumOfSquares);
        var coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
        {
            var scale = (float)coefficient;
            foreach (var grad in gradients)
            {
                var values = CpuTensors.Floats(grad);
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] *= scale;
                }
            }
        }

        return norm;
    }
}
