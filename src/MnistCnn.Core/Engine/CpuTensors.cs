using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Engine;

/// <summary>What the managed kernels (the fused Adam update, the engine's training step and validation) need of a tensor to read its memory directly.</summary>
internal static unsafe class CpuTensors
{
    /// <summary>Whether <paramref name="t"/> is a contiguous float32 tensor on the CPU.</summary>
    public static bool IsCpuFloat32(Tensor t) => t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous();

    /// <summary>Whether a batch is CPU float32 images <c>[N, 1, 28, 28]</c> with int64 labels <c>[N]</c>, both contiguous.</summary>
    public static bool IsImageBatch(Tensor images, Tensor labels) =>
        IsCpuFloat32(images) && images.Dimensions == 4 && images.size(1) == 1
        && images.size(2) == NetworkDescription.ImageSize && images.size(3) == NetworkDescription.ImageSize
        && labels.device_type == DeviceType.CPU && labels.dtype == ScalarType.Int64 && labels.is_contiguous()
        && labels.Dimensions == 1 && labels.size(0) == images.size(0);

    /// <summary>
    /// Whether two tensors have the same shape, read a dimension at a time: <c>shape</c> builds an array through a
    /// callback, about 1 us a call (measured), which a training step's checks would pay a dozen times.
    /// </summary>
    public static bool SameShape(Tensor left, Tensor right)
    {
        var dimensions = left.Dimensions;
        if (right.Dimensions != dimensions)
        {
            return false;
        }

        for (var d = 0; d < dimensions; d++)
        {
            if (left.size(d) != right.size(d))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A contiguous float32 CPU tensor's elements, as a view of its memory (writes change the tensor).</summary>
    public static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>
    /// The address of a CPU tensor's memory. It stays valid while the tensor lives and is not resized: the callers
    /// hold parameters, gradients and batches for as long as they use it, and update them in place.
    /// </summary>
    public static nint Address(Tensor t)
    {
        fixed (byte* p = t.bytes)
        {
            return (nint)p;
        }
    }

    /// <summary>A view of <paramref name="tensors"/> (CPU float32, contiguous, in the description's order).</summary>
    public static ParameterView View(NetworkDescription description, IReadOnlyList<Tensor> tensors) =>
        new(description, tensors.Select(Address).ToArray());
}
