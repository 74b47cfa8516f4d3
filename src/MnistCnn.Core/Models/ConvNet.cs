using MnistCnn.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>
/// The case study's convolutional network: conv 1→3 (3x3), sigmoid, conv 3→6 (3x3), sigmoid, flatten,
/// linear 3456→10. Takes images <c>[N, 1, 28, 28]</c> and returns logits <c>[N, 10]</c>.
/// </summary>
/// <remarks>
/// Parameter names match the PyTorch module (<c>conv1.weight</c>, <c>conv1.bias</c>, <c>conv2.weight</c>,
/// <c>conv2.bias</c>, <c>linear1.weight</c>, <c>linear1.bias</c>), so weights move between the two.
/// Parameters are initialised as PyTorch initialises them, from torch's global generator.
/// </remarks>
public sealed class ConvNet : nn.Module<Tensor, Tensor>
{
    /// <summary>The input image side length the network expects.</summary>
    public const int ImageSize = 28;

    /// <summary>The number of classes (logits) the network produces.</summary>
    public const int ClassCount = 10;

    /// <summary>The number of trainable parameters: 30 + 168 + 34,570.</summary>
    public const int ParameterCount = 34_768;

    private const int Features = 6 * 24 * 24;

    // Fields in execution order; their names are the state_dict keys.
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear linear1;

    /// <summary>Initializes the network with parameters drawn from torch's global generator, on the CPU.</summary>
    public ConvNet()
        : this(seed: null)
    {
    }

    /// <summary>
    /// Initializes the network after seeding torch's global generator with <paramref name="seed"/>, as
    /// <c>torch.manual_seed(seed)</c> followed by constructing the module does in PyTorch.
    /// </summary>
    /// <param name="seed">The seed; <see langword="null"/> leaves the generator as it is.</param>
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process (no backend package, a C++ runtime older than GCC 13's, ...); the message names the cause and the fix.</exception>
    public ConvNet(long? seed)
        : base(TorchRuntime.Checked(nameof(ConvNet)))
    {
        if (seed is { } s)
        {
            manual_seed(s);
        }

        conv1 = nn.Conv2d(1, 3, kernel_size: 3, stride: 1);
        conv2 = nn.Conv2d(3, 6, kernel_size: 3, stride: 1);
        linear1 = nn.Linear(Features, ClassCount);
        RegisterComponents();
    }

    /// <summary>Computes the logits of a batch.</summary>
    /// <param name="input">Images, float32 <c>[N, 1, 28, 28]</c>, on the network's device.</param>
    /// <returns>Logits <c>[N, 10]</c>; the caller owns the tensor (or its dispose scope does).</returns>
    /// <exception cref="ArgumentException">The input's shape is not <c>[N, 1, 28, 28]</c>.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != 1 || input.shape[2] != ImageSize || input.shape[3] != ImageSize)
        {
            throw new ArgumentException(
                $"ConvNet expects images of shape [N, 1, {ImageSize}, {ImageSize}]; got [{string.Join(", ", input.shape)}].",
                nameof(input));
        }

        using var scope = NewDisposeScope();
        var x = Convolve(input, conv1).sigmoid_();
        x = Convolve(x, conv2).sigmoid_();
        return linear1.call(x.flatten(1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The <see cref="Conv2d"/> module's convolution, computed in channels-last memory layout.
    /// </summary>
    /// <remarks>
    /// libtorch 2.10's oneDNN convolution in the default (NCHW) layout returned wrong input gradients,
    /// at times NaN, on this project's AVX-512 machines (relative errors up to 1.9 against float64; see
    /// docs/architecture.md). The same kernels in channels-last layout agree with float64 to 1.5e-5 and
    /// are as fast, so inputs and weights are given channels-last strides; the values are unchanged.
    /// </remarks>
    private static Tensor Convolve(Tensor input, Conv2d conv) =>
        nn.functional.conv2d(ChannelsLast(input), ChannelsLast(conv.weight!), conv.bias);

    // TorchSharp has no memory_format argument: permuting to NHWC, copying, and permuting back gives the
    // channels-last strides torch recognises.
    private static Tensor ChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            conv2.Dispose();
            linear1.Dispose();
        }

        base.Dispose(disposing);
    }
}
