using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Support;

/// <summary>
/// A one-layer classifier of 12 classes by default: its output width differs from the 10 classes of the data,
/// and its architecture from ConvNet's, for the tests of mismatches.
/// </summary>
internal sealed class WideNet : nn.Module<Tensor, Tensor>
{
    // The state_dict key stays "linear1", as ConvNet's last layer: the mismatch is in shape, not in name.
    [TorchSharp.Utils.ComponentName(Name = "linear1")]
    private readonly TorchSharp.Modules.Linear _linear1;

    public WideNet(int classes = 12)
        : base(nameof(WideNet))
    {
        _linear1 = nn.Linear(784, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _linear1.call(input.flatten(1));
}
