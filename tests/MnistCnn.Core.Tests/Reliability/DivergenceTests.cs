using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using Xunit.Abstractions;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// A learning rate that makes the loss non-finite stops the run with <see cref="TrainingDivergedException"/>
/// naming the epoch and batch, and leaves the epoch checkpoint and the best weights of the healthy epochs
/// untouched and loadable.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(TorchGlobalState.Name)]
public sealed class DivergenceTests(ITestOutputHelper output)
{
    [Fact]
    public void Fit_LearningRateExplodesInEpochThree_ThrowsNamingEpochAndBatchAndKeepsTheCheckpoints()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(160, seed: 1);
        using var test = LearnableDigits.Make(40, seed: 2);
        using var model = new ConvNet(seed: 3);
        var checkpoint = folder.File("run.ckpt");
        var best = new BestModelCheckpoint(folder.File("best.safetensors"));
        byte[]? checkpointAfterEpochTwo = null;
        byte[]? bestAfterEpochTwo = null;
        var progress = SynchronousProgress.OnEpochCompleted(epoch =>
        {
            if (epoch == 2)
            {
                checkpointAfterEpochTwo = File.ReadAllBytes(checkpoint);
                bestAfterEpochTwo = File.ReadAllBytes(best.Path!);
            }
        });
        var options = new TrainerOptions
        {
            Device = TrainingDevice.Cpu,
            Epochs = 4,
            Seed = 3,
            CheckpointPath = checkpoint,
            Callbacks = [best],
            // Adam moves each weight by about the learning rate: at 1e38 the logits overflow float32 at once
            // (at 1e36 the saturated sigmoids can keep the loss huge but finite).
            LearningRateScheduler = LearningRateScheduler.Step(stepSize: 2, gamma: 1e40),
        };
        var trainLoader = new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16, Shuffle = true });

        var act = () => new Trainer(options).Fit(model, trainLoader, new DigitDataLoader(test), progress);

        var diverged = act.Should().Throw<TrainingDivergedException>().Which;
        diverged.Epoch.Should().Be(3);
        diverged.Message.Should().Contain($"epoch 3, batch {diverged.Batch}");
        double.IsFinite(diverged.Loss).Should().BeFalse();
        File.ReadAllBytes(checkpoint).Should().Equal(checkpointAfterEpochTwo, "the diverged epoch must not overwrite the checkpoint");
        File.ReadAllBytes(best.Path!).Should().Equal(bestAfterEpochTwo);
        Directory.GetFiles(folder.Path).Select(Path.GetFileName).Should().BeEquivalentTo("run.ckpt", "best.safetensors");

        using var bestModel = new ConvNet();
        ModelWeights.Load(bestModel, best.Path!);
        Validator.Accuracy(bestModel, new DigitDataLoader(test)).Should().Be(best.BestAccuracy);

        using var resumed = new ConvNet(seed: 99);
        var history = new Trainer(options with { LearningRateScheduler = null, Epochs = 3 }).Resume(checkpoint, resumed, trainLoader, new DigitDataLoader(test));
        history.Epochs.Should().HaveCount(3);
        history.Epochs.Should().OnlyContain(e => double.IsFinite(e.TrainLossMean));

        ReliabilityReport.Record(
            "Divergence (learning rate 1e38 from epoch 3)",
            [
                $"stopped with: {diverged.Message}",
                $"epoch checkpoint kept (2 epochs, byte-identical) and resumed to epoch 3; best weights (epoch {best.BestEpoch}, {best.BestAccuracy:F1}%) kept and loaded; data lost: 0",
            ],
            output);
    }
}
