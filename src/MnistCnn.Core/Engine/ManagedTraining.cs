using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Engine;

/// <summary>
/// The trainer's managed path: the gradients of a step of an engine network (<see cref="IEngineNetwork"/>)
/// computed by the engine and written into the parameters' <c>.grad</c> tensors in place, as <c>zero_grad</c> +
/// <c>backward</c> would leave them. The optimizer step is the caller's.
/// </summary>
/// <remarks>
/// Taken only when the engine computes exactly what torch's autograd would: the model is an engine network with
/// no forward hooks, in training mode, with every parameter float32, contiguous, on the CPU and requiring
/// gradients; gradient recording is on; the images are float32 <c>[N, 1, 28, 28]</c> not requiring gradients and
/// the labels int64 <c>[N]</c>, both contiguous on the CPU. Anything else (CUDA, another model or dtype, frozen
/// parameters, hooks) goes through torch's autograd. The images are spread over <c>torch.get_num_threads()</c>
/// workers (the run's thread count); the result does not depend on it (<see cref="GradientStep"/>).
/// </remarks>
internal static class ManagedTraining
{
    // One workspace per optimizer (a run has one optimizer per model; concurrent runs have their own).
    private static readonly ConditionalWeakTable<OptimizerHelper, GradientStep> Workspaces = [];

    /// <summary>
    /// Computes the batch's loss and gradients in managed code when the managed path applies (see the remarks),
    /// leaving them in the parameters' <c>.grad</c> tensors.
    /// </summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="optimizer">The run's optimizer: the workspace's owner.</param>
    /// <param name="images">The batch's images.</param>
    /// <param name="labels">The batch's labels.</param>
    /// <param name="loss">The batch's mean cross-entropy (float32, as torch computes it) when applied.</param>
    /// <param name="labelSmoothing">The loss's label smoothing in [0, 1), as torch's <c>cross_entropy(label_smoothing:)</c>.</param>
    /// <returns>Whether the managed path applied; when not, nothing has changed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A label is not a class of the network (torch's path fails too).</exception>
    public static bool TryComputeGradients(nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer, Tensor images, Tensor labels, out double loss,
        double labelSmoothing = 0)
    {
        loss = 0;
        if (model is not IEngineNetwork network)
        {
            return false;
        }

        var parameters = network.EngineParameters();
        var gradients = new Tensor?[parameters.Length];
        if (!Applies(model, network, parameters, gradients, images, labels))
        {
            return false;
        }

        var description = network.Description;
        foreach (var label in MemoryMarshal.Cast<byte, long>(labels.bytes))
        {
            if ((ulong)label >= (ulong)description.Classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"A label is outside the network's {description.Classes} classes.");
            }
        }

        // zero_grad leaves no gradient (set_to_none); allocate it once, then it is written in place every step.
        for (var i = 0; i < gradients.Length; i++)
        {
            gradients[i] ??= CreateGradient(parameters[i]);
        }

        var step = Workspaces.GetValue(optimizer, _ => NetworkPasses.For(description).CreateGradientStep());
        loss = step.Run(
            CpuTensors.View(description, parameters), CpuTensors.View(description, gradients!), CpuTensors.Address(images), CpuTensors.Address(labels),
            (int)images.size(0), Math.Max(1, get_num_threads()), (float)labelSmoothing);
        return true;
    }

    /// <summary>Whether the managed path computes exactly what torch's autograd would for this model and batch.</summary>
    internal static bool Applies(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels)
    {
        if (model is not IEngineNetwork network)
        {
            return false;
        }

        var parameters = network.EngineParameters();
        return Applies(model, network, parameters, new Tensor?[parameters.Length], images, labels);
    }

    /// <summary>
    /// As <see cref="Applies(nn.Module{Tensor, Tensor}, Tensor, Tensor)"/>; leaves each parameter's gradient (or null) in
    /// <paramref name="gradients"/>.
    /// </summary>
    private static bool Applies(
        nn.Module<Tensor, Tensor> model, IEngineNetwork network, Parameter[] parameters, Tensor?[] gradients, Tensor images, Tensor labels)
    {
        if (!model.training || network.HasHooks || !is_grad_enabled())
        {
            return false;
        }

        for (var i = 0; i < parameters.Length; i++)
        {
            var parameter = parameters[i];
            if (!parameter.requires_grad || !CpuTensors.IsCpuFloat32(parameter))
            {
                return false;
            }

            var grad = gradients[i] = parameter.grad;
            if (grad is not null && (!CpuTensors.IsCpuFloat32(grad) || grad.requires_grad || !CpuTensors.SameShape(grad, parameter)))
            {
                return false;
            }
        }

        // Images that require gradients ask for the input's gradient, which only autograd computes.
        return CpuTensors.IsImageBatch(images, labels) && !images.requires_grad && images.size(0) > 0;
    }

    private static Tensor CreateGradient(Parameter parameter)
    {
        using var noGrad = no_grad();
        parameter.grad = zeros_like(parameter).DetachFromDisposeScope();
        return parameter.grad!;
    }
}
