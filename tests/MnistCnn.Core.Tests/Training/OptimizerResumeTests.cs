using System.Text.Json.Nodes;
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Reliability.Fuzzing;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.Tests.Training;

/// <summary>
/// Checkpoints of runs with AdamW, SGD, schedulers and clipping: a run stopped part-way and resumed ends with the
/// weights of an uninterrupted run, byte for byte; a state of another optimizer or a damaged SGD state is refused.
/// </summary>
[Collection(TorchGlobalState.Name)]
public sealed class OptimizerResumeTests : IDisposable
{
    private static readonly DigitDataLoaderOptions Batches = new() { BatchSize = 16, Shuffle = true };

    private readonly TempDirectory _folder = new();
    private readonly DigitDataset _train = LearnableDigits.Make(160, seed: 1);

    public static TheoryData<string> Configurations => ["adam one-cycle", "adamw cosine clipped", "sgd nesterov step", "sgd one-cycle clipped", "adamw one-cycle",
        "adam one-cycle smoothed"];

    public void Dispose()
    {
        _train.Dispose();
        _folder.Dispose();
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Resume_RunStoppedPartWay_EndsWithTheWeightsOfAnUninterruptedRun(string configuration)
    {
        var options = Options(configuration) with { Epochs = 3 };
        var checkpoint = _folder.File("run.ckpt");
        using var uninterrupted = new ConvNet(seed: 5);
        var full = new Trainer(options).Fit(uninterrupted, Loader());

        // The same run (same epoch count, so the same one-cycle), stopped after its first epoch.
        using (var interrupted = new ConvNet(seed: 5))
        {
            var stopped = new Trainer(options with { CheckpointPath = checkpoint, Callbacks = [new StopAfter(1)] }).Fit(interrupted, Loader());
            stopped.Epochs.Should().HaveCount(1);
        }

        using var resumed = new ConvNet(seed: 99);
        var logger = new ListLogger();
        var history = new Trainer(options, logger).Resume(checkpoint, resumed, Loader());

        Weights.AssertIdentical(uninterrupted, resumed);
        history.Epochs.Select(e => (e.LearningRate, e.TrainLossMean)).Should().Equal(full.Epochs.Select(e => (e.LearningRate, e.TrainLossMean)));
        logger.Entries.Should().NotContain(e => e.EventId.Id == 1008, "the settings are the checkpoint's");
    }

    [Theory]
    [InlineData(TrainingOptimizer.Sgd, TrainingOptimizer.AdamW)]
    [InlineData(TrainingOptimizer.AdamW, TrainingOptimizer.Adam)]
    [InlineData(TrainingOptimizer.Adam, TrainingOptimizer.Sgd)]
    public void Resume_CheckpointOfAnotherOptimizer_ThrowsNamingTheFileAndBothAndChangesNothing(TrainingOptimizer written, TrainingOptimizer now)
    {
        var checkpoint = _folder.File("run.ckpt");
        using (var model = new ConvNet(seed: 0))
        {
            new Trainer(Options("plain") with { Optimizer = written, Epochs = 1, CheckpointPath = checkpoint }).Fit(model, Loader());
        }

        using var other = new ConvNet(seed: 7);
        using var before = new ConvNet(seed: 7);
        var act = () => new Trainer(Options("plain") with { Optimizer = now, Epochs = 2 }).Resume(checkpoint, other, Loader());

        act.Should().Throw<ModelFileException>()
            .WithMessage($"{checkpoint}: holds the state of the {written} optimizer, but this run trains with {now}*");
        Weights.AssertIdentical(before, other);
    }

    [Fact]
    public void Resume_WithOtherClippingOrScheduler_TrainsAndLogsTheChangedSettings()
    {
        var checkpoint = _folder.File("run.ckpt");
        using var model = new ConvNet(seed: 0);
        new Trainer(Options("plain") with { Epochs = 1, CheckpointPath = checkpoint }).Fit(model, Loader());
        var logger = new ListLogger();

        var history = new Trainer(Options("plain") with { Epochs = 2, GradientClipNorm = 1, LearningRateScheduler = LearningRateScheduler.Step(1) }, logger)
            .Resume(checkpoint, model, Loader());

        history.Epochs.Should().HaveCount(2);
        history.Epochs[1].LearningRate.Should().BeApproximately(0.001, 1e-15);
        logger.Entries.Should().ContainSingle(e => e.EventId.Id == 1008).Which.Message.Should().Contain("GradientClipNorm = 1").And.Contain("StepLR");
    }

    [Fact]
    public void Resume_HeaderWithoutTheOptimizerSettings_ResumesAsAnAdamRun()
    {
        // Checkpoints written before the optimizer could be chosen have none of these fields.
        var checkpoint = _folder.File("run.ckpt");
        using (var model = new ConvNet(seed: 0))
        {
            new Trainer(Options("plain") with { Epochs = 1, CheckpointPath = checkpoint }).Fit(model, Loader());
        }

        var image = CheckpointImage.Split(File.ReadAllBytes(checkpoint));
        var header = JsonNode.Parse(image.Header)!.AsObject();
        foreach (var field in new[] { "Optimizer", "Momentum", "Nesterov", "LearningRateScheduler", "GradientClipNorm" })
        {
            header["Settings"]!.AsObject().Remove(field).Should().BeTrue(field);
        }

        File.WriteAllBytes(checkpoint, (image with { Header = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString()) }).Sealed());
        using var resumed = new ConvNet(seed: 3);
        var logger = new ListLogger();

        var history = new Trainer(Options("plain") with { Epochs = 2 }, logger).Resume(checkpoint, resumed, Loader());

        history.Epochs.Should().HaveCount(2);
        logger.Entries.Should().NotContain(e => e.EventId.Id == 1008, "the settings are those of an Adam run");
    }

    [Theory]
    [InlineData("momentum flag 2")]
    [InlineData("NaN in the last momentum buffer")]
    [InlineData("momentum 1.5")]
    [InlineData("dampening 0.5")]
    [InlineData("truncated")]
    public void Resume_DamagedSgdState_ThrowsModelFileExceptionAndChangesNothing(string damage)
    {
        var checkpoint = _folder.File("run.ckpt");
        var options = Options("plain") with { Optimizer = TrainingOptimizer.Sgd, Epochs = 1 };
        using (var model = new ConvNet(seed: 0))
        {
            new Trainer(options with { CheckpointPath = checkpoint }).Fit(model, Loader());
        }

        var image = CheckpointImage.Split(File.ReadAllBytes(checkpoint));
        var state = (byte[])image.Optimizer.Clone();

        // "SGD" (4 bytes), 1 group, 6 states, then initial lr, lr, momentum, dampening, weight decay, nesterov, maximize.
        const int optionsAt = 4 + 1 + 1;
        (state[0], state[optionsAt - 2], state[optionsAt - 1]).Should().Be(((byte)3, (byte)1, (byte)6));
        state = damage switch
        {
            "momentum flag 2" => Set(state, optionsAt + 42, [2]),
            "NaN in the last momentum buffer" => Set(state, state.Length - 4, BitConverter.GetBytes(float.NaN)),
            "momentum 1.5" => Set(state, optionsAt + 16, BitConverter.GetBytes(1.5)),
            "dampening 0.5" => Set(state, optionsAt + 24, BitConverter.GetBytes(0.5)),
            _ => state[..^3],
        };
        File.WriteAllBytes(checkpoint, (image with { Optimizer = state }).Sealed());
        using var other = new ConvNet(seed: 7);
        using var before = new ConvNet(seed: 7);

        var act = () => new Trainer(options with { Epochs = 2 }).Resume(checkpoint, other, Loader());

        act.Should().Throw<ModelFileException>().WithMessage($"{checkpoint}: is damaged: its optimizer state *");
        Weights.AssertIdentical(before, other);
    }

    private static byte[] Set(byte[] bytes, int at, byte[] value)
    {
        value.CopyTo(bytes, at);
        return bytes;
    }

    private static TrainerOptions Options(string configuration)
    {
        var options = new TrainerOptions { Device = TrainingDevice.Cpu, Seed = 5, Threads = 1 };
        return configuration switch
        {
            "adam one-cycle" => options with { LearningRateScheduler = LearningRateScheduler.OneCycle(0.02) },
            "adamw cosine clipped" => options with { Optimizer = TrainingOptimizer.AdamW, WeightDecay = 0.05, LearningRateScheduler = LearningRateScheduler.Cosine(), GradientClipNorm = 0.5 },
            "sgd nesterov step" => options with { Optimizer = TrainingOptimizer.Sgd, LearningRate = 0.05, Momentum = 0.9, Nesterov = true, WeightDecay = 1e-4, LearningRateScheduler = LearningRateScheduler.Step(1, 0.5) },
            "sgd one-cycle clipped" => options with { Optimizer = TrainingOptimizer.Sgd, LearningRateScheduler = LearningRateScheduler.OneCycle(0.1, pctStart: 0.4), GradientClipNorm = 1 },
            "adam one-cycle smoothed" => options with { LearningRateScheduler = LearningRateScheduler.OneCycle(0.02), LabelSmoothing = 0.1 },
            "adamw one-cycle" => options with { Optimizer = TrainingOptimizer.AdamW, WeightDecay = 0.01, LearningRateScheduler = LearningRateScheduler.OneCycle(0.02, cycleMomentum: false) },
            _ => options,
        };
    }

    private DigitDataLoader Loader() => new(_train, Batches);

    private sealed class StopAfter(int epochs) : TrainingCallback
    {
        public override void OnEpochEnd(TrainingContext context)
        {
            if (context.History.Count == epochs)
            {
                context.RequestStop();
            }
        }
    }
}
