using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>
/// What the library's networks share with PyTorch's layers: the initial parameters PyTorch draws for
/// <c>Conv2d</c> and <c>Linear</c>, and the memory layout their convolutions run in.
/// </summary>
internal static class PyTorchLayers
{
    /// <summary>
    /// New CPU parameters shaped like <paramref name="weight"/> and <paramref name="bias"/>, drawn as PyTorch's
    /// <c>Conv2d</c>/<c>Linear.reset_parameters</c> draws them: <c>kaiming_uniform_(weight, a=sqrt(5))</c>, then
    /// the bias uniform in ±1/sqrt(fan_in). The bounds are computed in double in PyTorch's order of operations.
    /// </summary>
    /// <remarks>
    /// TorchSharp's modules draw their parameters from torch's global generator while they are built, and its
    /// nn.init functions ignore a generator argument. So the networks build their modules on the meta device
    /// (shapes only, nothing drawn) and give them parameters from here, drawn from <paramref name="generator"/>
    /// (or torch's global generator when it is <see langword="null"/>) in module order, as PyTorch does.
    /// </remarks>
    public static (Parameter Weight, Parameter Bias) ResetParameters(Parameter weight, Parameter bias, Generator? generator)
    {
        var fanIn = weight.shape.Skip(1).Aggregate(1L, (product, size) => product * size);
        var gain = Math.Sqrt(2.0 / (1 + Math.Pow(Math.Sqrt(5), 2)));
        var weightBound = Math.Sqrt(3.0) * (gain / Math.Sqrt(fanIn));
        var biasBound = 1 / Math.Sqrt(fanIn);
        using var noGrad = no_grad();
        var newWeight = nn.Parameter(empty(weight.shape, weight.dtype).uniform_(-weightBound, weightBound, generator));
        var newBias = nn.Parameter(empty(bias.shape, bias.dtype).uniform_(-biasBound, biasBound, generator));
        return (newWeight, newBias);
    }

    /// <summary>Draws new parameters for <paramref name="conv"/> (see <see cref="ResetParameters"/>).</summary>
    public static void Reset(Conv2d conv, Generator? generator) =>
        (conv.weight, conv.bias) = ResetParameters(conv.weight!, conv.bias!, generator);

    /// <summary>Draws new parameters for <paramref name="linear"/> (see <see cref="ResetParameters"/>).</summary>
    public static void Reset(Linear linear, Generator? generator) =>
        (linear.weight, linear.bias) = ResetParameters(linear.weight!, linear.bias!, generator);

    /// <summary>
    /// The <see cref="Conv2d"/> module's convolution (stride 1, no padding), computed in channels-last memory layout.
    /// </summary>
    /// <remarks>
    /// libtorch 2.10's oneDNN convolution in the default (NCHW) layout returned wrong input gradients,
    /// at times NaN, on this project's AVX-512 machines (relative errors up to 1.9 against float64; see
    /// docs/architecture.md). The same kernels in channels-last layout agree with float64 to 1.5e-5 and
    /// are as fast, so inputs and weights are given channels-last strides; the values are unchanged.
    /// </remarks>
    public static Tensor Convolve(Tensor input, Conv2d conv) =>
        nn.functional.conv2d(ChannelsLast(input), ChannelsLast(conv.weight!), conv.bias);

    // TorchSharp has no memory_format argument: permuting to NHWC, copying, and permuting back gives the
    // channels-last strides torch recognises.
    private static Tensor ChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
