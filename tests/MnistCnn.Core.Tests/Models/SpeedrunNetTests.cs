using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Core.Tests.Models;

/// <summary>The speedrun network against PyTorch (fixture: <c>tests/peer/make_fixture.py --model speedrun</c>).</summary>
[Collection(TorchGlobalState.Name)]
public sealed class SpeedrunNetTests() : EngineNetworkPyTorchTests<SpeedrunNet>("speedrun-adam.safetensors")
{
    protected override string[] Parameters => ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];

    protected override string Architecture => "SpeedrunNet";

    protected override int ParameterCount => SpeedrunNet.ParameterCount;

    protected override SpeedrunNet Create(long seed) => new(seed);
}
