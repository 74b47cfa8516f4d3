namespace MnistCnn.Core.Tests;

/// <summary>Tests that seed torch's global generator, set its thread count or count live tensors run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGlobalState
{
    public const string Name = "torch global state";
}
