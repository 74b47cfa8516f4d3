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
/// Parameters are initialised as PyTorch initialises them (Kaiming-uniform weights, uniform biases, in
/// module order), so <c>new ConvNet(seed)</c> holds the same numbers as <c>torch.manual_seed(seed)</c>
/// followed by constructing the PyTorch module. A seeded network draws them from a generator of its own and
/// leaves torch's global generator as it was; several can be built at once on different threads.
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

    /// <summary>
    /// Initializes the network on the CPU with parameters drawn from torch's global generator, as constructing
    /// the PyTorch module does (the generator advances, like after any random torch call).
    /// </summary>
    public ConvNet()
        : this(seed: null)
    {
    }

    /// <summary>
    /// Initializes the network on the CPU with the parameters PyTorch gives the module after
    /// <c>torch.manual_seed(seed)</c>, drawn from a generator of the network's own: torch's global generator
    /// is neither read nor changed.
    /// </summary>
    /// <param name="seed">The seed of the initial parameters; <see langword="null"/> draws them from torch's global generator.</param>
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process (no backend package, a C++ runtime older than GCC 13's, ...); the message names the cause and the fix.</exception>
    public ConvNet(long? seed)
        : base(TorchRuntime.Checked(nameof(ConvNet)))
    {
        // TorchSharp's modules draw their parameters from torch's global generator while they are built, and its
        // nn.init functions ignore a generator argument. So the modules are built on the meta device (shapes
        // only, nothing drawn) and then given CPU parameters drawn as PyTorch's reset_parameters draws them.
        conv1 = nn.Conv2d(1, 3, kernel_size: 3, stride: 1, device: META);
        conv2 = nn.Conv2d(3, 6, kernel_size: 3, stride: 1, device: META);
        linear1 = nn.Linear(Features, ClassCount, device: META);
        using var generator = seed is { } s ? new Generator().manual_seed(s) : null;
        (conv1.weight, conv1.bias) = ResetParameters(conv1.weight, conv1.bias!, generator);
        (conv2.weight, conv2.bias) = ResetParameters(conv2.weight, conv2.bias!, generator);
        (linear1.weight, linear1.bias) = ResetParameters(linear1.weight, linear1.bias!, generator);
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

    /// <summary>The six parameters in state-dictionary order (conv1.weight, conv1.bias, conv2.weight, conv2.bias, linear1.weight, linear1.bias).</summary>
    internal Parameter[] TrainableParameters() => [conv1.weight!, conv1.bias!, conv2.weight!, conv2.bias!, linear1.weight!, linear1.bias!];

    /// <summary>
    /// Whether a forward hook is registered on the network or on <c>linear1</c> (the submodule it calls as a
    /// module; the convolutions are called as functions, so hooks on them never ran), in which case training
    /// must go through <see cref="forward"/> so the hooks run.
    /// </summary>
    internal bool HasHooks => HookCount(this) > 0 || HookCount(linear1) > 0;

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

    /// <summary>
    /// New CPU parameters shaped like <paramref name="weight"/> and <paramref name="bias"/>, drawn as PyTorch's
    /// <c>Conv2d</c>/<c>Linear.reset_parameters</c> draws them: <c>kaiming_uniform_(weight, a=sqrt(5))</c>, then
    /// the bias uniform in ±1/sqrt(fan_in). The bounds are computed in double in PyTorch's order of operations.
    /// </summary>
    private static (Parameter Weight, Parameter Bias) ResetParameters(Parameter weight, Parameter bias, Generator? generator)
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

    // TorchSharp has no memory_format argument: permuting to NHWC, copying, and permuting back gives the
    // channels-last strides torch recognises.
    private static Tensor ChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    // TorchSharp keeps a module's forward hooks in private dictionaries and exposes no count; when a
    // future version renames them, the count is unknown and taken as "hooks present" (torch's path).
    private static int HookCount(nn.Module module)
    {
        var count = 0;
        foreach (var field in HookFieldsOf.GetOrAdd(module.GetType(), static type => HookFields.Select(name => FindField(type, name)).ToArray()))
        {
            if (field?.GetValue(module) is not System.Collections.ICollection hooks)
            {
                return int.MaxValue;
            }

            count += hooks.Count;
        }

        return count;
    }

    private static readonly string[] HookFields = ["pre_hooks", "post_hooks", "module_pre_hooks", "module_post_hooks"];

    // Looked up once per module type: the check runs every training step.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, System.Reflection.FieldInfo?[]> HookFieldsOf = new();

    private static System.Reflection.FieldInfo? FindField(Type? type, string name)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.GetField(name, System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.DeclaredOnly) is { } field)
            {
                return field;
            }
        }

        return null;
    }

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
