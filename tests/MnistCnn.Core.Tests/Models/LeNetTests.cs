using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Core.Tests.Models;

/// <summary>The LeNet-5-like network against PyTorch (fixture: <c>tests/peer/make_fixture.py --model lenet</c>).</summary>
[Collection(TorchGlobalState.Name)]
public sealed class LeNetTests() : EngineNetworkPyTorchTests<LeNet>("lenet-adam.safetensors")
{
    protected override string[] Parameters => ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];

    protected override string Architecture => "LeNet";

    protected override int ParameterCount => LeNet.ParameterCount;

    protected override LeNet Create(long seed) => new(seed);
}
