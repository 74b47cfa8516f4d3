using MnistCnn.Core.Engine;
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
public sealed class ConvNet : nn.Module<Tensor, Tensor>, IEngineNetwork
{
    // The side of an input image, owned by the engine's description (published as DigitImage.Size).
    private const int DigitImageSize = NetworkDescription.ImageSize;

    /// <summary>The number of classes (logits) the network produces.</summary>
    public const int ClassCount = 10;

    /// <summary>The number of trainable parameters: 30 + 168 + 34,570.</summary>
    public const int ParameterCount = 34_768;


    // The layers, built from the engine's description; their names are the state_dict keys.
    private readonly DescribedLayers _layers;

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
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process (no backend package, a C++
    /// runtime older than GCC 13's, ...); the message names the cause and the fix.</exception>
    public ConvNet(long? seed)
        : base(TorchRuntime.Checked(nameof(ConvNet)))
    {
        using var generator = seed is { } s ? new Generator().manual_seed(s) : null;
        _layers = new DescribedLayers(NetworkDescription.ConvNet, generator);
        _layers.RegisterWith(this);
    }

    /// <summary>Computes the logits of a batch.</summary>
    /// <param name="input">Images, float32 <c>[N, 1, 28, 28]</c>, on the network's device.</param>
    /// <returns>Logits <c>[N, 10]</c>; the caller owns the tensor (or its dispose scope does).</returns>
    /// <exception cref="ArgumentException">The input's shape is not <c>[N, 1, 28, 28]</c>.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != 1 || input.shape[2] != DigitImageSize || input.shape[3] != DigitImageSize)
        {
            throw new ArgumentException(
                $"ConvNet expects images of shape [N, 1, {DigitImageSize}, {DigitImageSize}]; got [{string.Join(", ", input.shape)}].",
                nameof(input));
        }

        using var scope = NewDisposeScope();
        return _layers.Forward(input).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    NetworkDescription IEngineNetwork.Description => _layers.Description;

    /// <inheritdoc/>
    bool IEngineNetwork.HasHooks => _layers.HasHooks(this);

    /// <inheritdoc/>
    Parameter[] IEngineNetwork.EngineParameters() => _layers.Parameters();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _layers.Dispose();
        }

        base.Dispose(disposing);
    }
}
