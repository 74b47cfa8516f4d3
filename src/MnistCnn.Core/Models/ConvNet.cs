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
        // Built on the meta device (shapes only, nothing drawn), then given the parameters PyTorch would draw.
        conv1 = nn.Conv2d(1, 3, kernel_size: 3, stride: 1, device: META);
        conv2 = nn.Conv2d(3, 6, kernel_size: 3, stride: 1, device: META);
        linear1 = nn.Linear(Features, ClassCount, device: META);
        using var generator = seed is { } s ? new Generator().manual_seed(s) : null;
        PyTorchLayers.Reset(conv1, generator);
        PyTorchLayers.Reset(conv2, generator);
        PyTorchLayers.Reset(linear1, generator);
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
        var x = PyTorchLayers.Convolve(input, conv1).sigmoid_();
        x = PyTorchLayers.Convolve(x, conv2).sigmoid_();
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
