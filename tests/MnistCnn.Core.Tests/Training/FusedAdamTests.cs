using Microsoft.Extensions.Logging;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
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
    public void Step_TrainersOptimizerOnCpuFloat32_RunsTheFusedUpdate()
    {
        using var model = new ConvNet(seed: 5);
        var logger = new ListLogger();
        using var optimizer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu }, logger).CreateOptimizer(model);
        using var scope = NewDisposeScope();

        Trainer.Step(model, optimizer, rand([8, 1, 28, 28]), randint(10, [8]));
        Trainer.Step(model, optimizer, rand([8, 1, 28, 28]), randint(10, [8]));

        var fused = optimizer.Should().BeOfType<FusedAdam>().Subject;
        fused.FusedSteps.Should().Be(2);
        fused.FallbackSteps.Should().Be(0);
        logger.Entries.Should().BeEmpty();
    }

    [Fact]
    public void Step_MomentsInAnotherLayout_FallsBackWithOneWarningAndTorchSharpsResults()
    {
        using var fused = new ConvNet(seed: 4);
        using var reference = new ConvNet(seed: 4);
        var logger = new ListLogger();
        using var fusedAdam = new FusedAdam(fused.parameters(), 0.01, 0.9, 0.999, 1e-8, 0, logger);
        using var referenceAdam = optim.Adam(reference.parameters(), 0.01, 0.9, 0.999, 1e-8, 0);

        // A TorchSharp whose Adam state is not what the fused update reads: here the moments of the weight
        // matrices are kept in another memory layout (same shapes and values), which TorchSharp's update copes with.
        TransposeMomentLayouts(fusedAdam);
        using var scope = NewDisposeScope();
        var images = rand([4, 1, 28, 28], generator: new Generator(5));
        var labels = randint(10, [4], generator: new Generator(6));
        for (var s = 0; s < 3; s++)
        {
            Trainer.Step(fused, fusedAdam, images, labels);
            Trainer.Step(reference, referenceAdam, images, labels);
        }

        fusedAdam.FusedSteps.Should().Be(0);
        fusedAdam.FallbackSteps.Should().Be(3);
        logger.Entries.Should().ContainSingle();
        logger.Entries[0].Level.Should().Be(LogLevel.Warning);
        logger.Entries[0].EventId.Id.Should().Be(1010);
        logger.Entries[0].Message.Should().Contain("moments");
        Weights.AssertIdentical(fused, reference);

        static void TransposeMomentLayouts(TorchSharp.Modules.OptimizerHelper optimizer)
        {
            foreach (var state in optimizer.state_dict().State.Cast<TorchSharp.Modules.Adam.State>().Where(s => s.exp_avg.dim() > 1))
            {
                state.exp_avg = state.exp_avg.transpose(0, -1).contiguous().transpose(0, -1).DetachFromDisposeScope();
                state.exp_avg_sq = state.exp_avg_sq.transpose(0, -1).contiguous().transpose(0, -1).DetachFromDisposeScope();
            }
        }
    }

    [Fact]
    public void Step_WithWeightDecay_FallsBackToTorchSharpsUpdate()
    {
        using var fused = new ConvNet(seed: 3);
        using var reference = new ConvNet(seed: 3);
        var logger = new ListLogger();
        using var fusedAdam = new FusedAdam(fused.parameters(), 0.01, 0.9, 0.999, 1e-8, 0.1, logger);
        using var referenceAdam = optim.Adam(reference.parameters(), 0.01, 0.9, 0.999, 1e-8, 0.1);
        using var scope = NewDisposeScope();
        var images = ones([4, 1, 28, 28]);
        var labels = zeros([4], ScalarType.Int64);

        Trainer.Step(fused, fusedAdam, images, labels);
        Trainer.Step(reference, referenceAdam, images, labels);

        fusedAdam.FallbackSteps.Should().Be(1);
        logger.Entries.Should().ContainSingle();
        logger.Entries[0].Level.Should().Be(LogLevel.Information);
        logger.Entries[0].Message.Should().Contain("weight decay");
        Weights.AssertIdentical(fused, reference);
    }
}
