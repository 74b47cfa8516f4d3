using MnistCnn.Core.Engine;
using MnistCnn.Core.Runtime;
using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>
/// The speedrun network, small and quick to train: conv 1→24 (5x5), max-pool 2x2, ReLU, conv 24→32 (3x3), max-pool
/// 2x2, ReLU, flatten, linear 800→256, ReLU, linear 256→10. Takes images <c>[N, 1, 28, 28]</c> and returns logits
/// <c>[N, 10]</c>. <see cref="Training.TrainingRecipe.Speedrun"/> trains it.
/// </summary>
/// <remarks>
/// <para>
/// About 1.24M multiply-adds an image, a third of <see cref="LeNet"/>'s, with enough capacity to pass 99% on MNIST
/// in a short run. It has no dropout and no batch normalisation: it draws no random numbers while it trains, so a
/// seeded run repeats bit for bit.
/// </para>
/// <para>
/// Parameter names match the PyTorch module in <c>tests/peer/speedrun.py</c> (<c>conv1</c>, <c>conv2</c>,
/// <c>fc1</c>, <c>fc2</c>, each <c>.weight</c> and <c>.bias</c>), and <c>new SpeedrunNet(seed)</c> holds the numbers
/// PyTorch gives that module after <c>torch.manual_seed(seed)</c>, drawn from a generator of the network's own.
/// </para>
/// </remarks>
public sealed class SpeedrunNet : DigitNetwork
{
    /// <summary>The number of trainable parameters: 624 + 6,944 + 205,056 + 2,570.</summary>
    public const int ParameterCount = 215_194;

    /// <summary>
    /// Initializes the network on the CPU with parameters drawn from torch's global generator, as constructing
    /// the PyTorch module does (the generator advances, like after any random torch call).
    /// </summary>
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process; the message names the cause and the fix.</exception>
    public SpeedrunNet()
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
    public SpeedrunNet(long? seed)
        : base(NetworkDescription.Speedrun, seed)
    {
    }

    // Declared here as well as in DigitNetwork, as the shipped API has it.
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => base.forward(input);
}
