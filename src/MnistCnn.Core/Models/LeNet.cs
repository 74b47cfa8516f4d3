using MnistCnn.Core.Engine;
using MnistCnn.Core.Runtime;
using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>
/// A LeNet-5-like network, the stronger model beside the case study's <see cref="ConvNet"/>: conv 1→20 (5x5),
/// ReLU, max-pool 2x2, conv 20→50 (5x5), ReLU, max-pool 2x2, flatten, linear 800→500, ReLU, linear 500→10.
/// Takes images <c>[N, 1, 28, 28]</c> and returns logits <c>[N, 10]</c>.
/// </summary>
/// <remarks>
/// <para>
/// The layer sizes are those of the LeNet variant in Caffe's MNIST tutorial (LeCun et al.'s LeNet-5 with 20 and 50
/// feature maps, one 500-unit hidden layer, ReLU and max-pooling instead of LeNet-5's scaled tanh and
/// subsampling), a network that reaches about 99% on MNIST without augmentation. It has no dropout and no
/// batch normalisation: it draws no random numbers while it trains, so a seeded run repeats bit for bit.
/// </para>
/// <para>
/// Parameter names match the PyTorch module in <c>tests/peer/lenet.py</c> (<c>conv1</c>, <c>conv2</c>,
/// <c>fc1</c>, <c>fc2</c>, each <c>.weight</c> and <c>.bias</c>), and <c>new LeNet(seed)</c> holds the numbers
/// PyTorch gives that module after <c>torch.manual_seed(seed)</c>, drawn from a generator of the network's own.
/// </para>
/// </remarks>
public sealed class LeNet : DigitNetwork
{
    /// <summary>The number of trainable parameters: 520 + 25,050 + 400,500 + 5,010.</summary>
    public const int ParameterCount = 431_080;

    /// <summary>
    /// Initializes the network on the CPU with parameters drawn from torch's global generator, as constructing
    /// the PyTorch module does (the generator advances, like after any random torch call).
    /// </summary>
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process; the message names the cause and the fix.</exception>
    public LeNet()
        : this(seed: null)
    {
    }

    /// <summary>
    /// Initializes the network on the CPU with the parameters PyTorch gives the module after
    /// <c>torch.manual_seed(seed)</c>, drawn from a generator of the network's own: torch's global generator
    /// is neither read nor changed.
    /// </summary>
    /// <param name="seed">The seed of the initial parameters; <see langword="null"/> draws them from torch's global generator.</param>
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process; the message names the cause and the fix.</exception>
    public LeNet(long? seed)
        : base(NetworkDescription.LeNet, seed)
    {
    }

    // Declared here as well as in DigitNetwork, as the shipped API has it.
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => base.forward(input);
}
