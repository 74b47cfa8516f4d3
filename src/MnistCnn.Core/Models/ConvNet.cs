using MnistCnn.Core.Engine;
using MnistCnn.Core.Runtime;
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
public sealed class ConvNet : DigitNetwork
{
    /// <summary>The number of trainable parameters: 30 + 168 + 34,570.</summary>
    public const int ParameterCount = 34_768;

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
        : base(NetworkDescription.ConvNet, seed)
    {
    }

    // Declared here as well as in DigitNetwork, as the shipped API has it.
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => base.forward(input);
}
