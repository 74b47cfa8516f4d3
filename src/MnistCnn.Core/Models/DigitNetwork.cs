using MnistCnn.Core.Engine;
using MnistCnn.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>
/// The library's networks (<see cref="ConvNet"/>, <see cref="LeNet"/>, <see cref="SpeedrunNet"/>): a torch module whose
/// layers, parameter names and initial parameters come from one description of its architecture. Takes images
/// <c>[N, 1, 28, 28]</c> and returns logits <c>[N, 10]</c>. Only the library derives from it.
/// </summary>
/// <remarks>
/// Parameters are initialised as PyTorch initialises the same module (Kaiming-uniform weights, uniform biases, in
/// module order). A seeded network draws them from a generator of its own and leaves torch's global generator as it
/// was; several can be built at once on different threads.
/// </remarks>
public abstract class DigitNetwork : nn.Module<Tensor, Tensor>, IEngineNetwork
{
    /// <summary>The number of classes (logits) every one of the library's networks produces.</summary>
    public const int ClassCount = NetworkDescription.ClassCount;

    // The side of an input image, owned by the engine's description (published as DigitImage.Size).
    private const int DigitImageSize = NetworkDescription.ImageSize;

    // The layers, built from the engine's description; their names are the state_dict keys.
    private readonly DescribedLayers _layers;

    /// <summary>Builds the layers of <paramref name="description"/> on the CPU, with the parameters PyTorch draws for them.</summary>
    /// <param name="description">The architecture; its name is the module's.</param>
    /// <param name="seed">The seed of the initial parameters (a generator of the network's own); <see langword="null"/>
    /// draws them from torch's global generator, which then advances.</param>
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process; the message names the cause and the fix.</exception>
    private protected DigitNetwork(NetworkDescription description, long? seed)
        : base(TorchRuntime.Checked(description.Name))
    {
        using var generator = seed is { } s ? new Generator().manual_seed(s) : null;
        _layers = new DescribedLayers(description, generator);
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
                $"{_layers.Description.Name} expects images of shape [N, 1, {DigitImageSize}, {DigitImageSize}]; got [{string.Join(", ", input.shape)}].",
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
