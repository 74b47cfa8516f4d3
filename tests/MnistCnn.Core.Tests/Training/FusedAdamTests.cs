using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Training;

[Collection(TorchGlobalState.Name)]
public sealed class FusedAdamTests
{
    [Fact]
    public void Step_TenStepsOnConvNet_MatchesTorchSharpsAdam()
    {
        using var fused = new ConvNet(seed: 7);
        using var reference = new ConvNet(seed: 7);
        using var fusedAdam = new FusedAdam(fused.parameters(), 0.01, 0.9, 0.999, 1e-8, 0);
        using var referenceAdam = optim.Adam(reference.parameters(), 0.01, 0.9, 0.999, 1e-8, 0);
        using var generator = new Generator(11);

        for (var s = 0; s < 10; s++)
        {
            using var scope = NewDisposeScope();
            var images = rand([16, 1, 28, 28], generator: generator);
            var labels = randint(10, [16], generator: generator);
            Trainer.Step(fused, fusedAdam, images, labels);
            Trainer.Step(reference, referenceAdam, images, labels);
        }

        var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in fused.named_parameters())
        {
            using var difference = parameter.detach().sub(expected[name]).abs().max();
            difference.item<float>().Should().BeLessThan(1e-5f, name);
        }
    }

    [Fact]
    public void Step_WithWeightDecay_FallsBackToTorchSharpsUpdate()
    {
        using var fused = new ConvNet(seed: 3);
        using var reference = new ConvNet(seed: 3);
        using var fusedAdam = new FusedAdam(fused.parameters(), 0.01, 0.9, 0.999, 1e-8, 0.1);
        using var referenceAdam = optim.Adam(reference.parameters(), 0.01, 0.9, 0.999, 1e-8, 0.1);
        using var scope = NewDisposeScope();
        var images = ones([4, 1, 28, 28]);
        var labels = zeros([4], ScalarType.Int64);

        Trainer.Step(fused, fusedAdam, images, labels);
        Trainer.Step(reference, referenceAdam, images, labels);

        var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in fused.named_parameters())
        {
            using var difference = parameter.detach().sub(expected[name]).abs().max();
            difference.item<float>().Should().Be(0f, name);
        }
    }
}
