using System.Diagnostics;
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// Twenty epochs with validation, a checkpoint every epoch and the best model kept: after the first epoch,
/// neither the live tensor count nor the resident memory may grow.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(TorchGlobalState.Name)]
public sealed class LongRunTests(ITestOutputHelper output)
{
    private const int Epochs = 20;

    // Resident memory steps up while the allocators (glibc arenas, libtorch's CPU allocator, the GC's heap)
    // warm up, about 10 MiB here, then stays flat. The live tensor count is the exact check for leaked
    // tensors; this bound catches native or managed leaks that grow with every step or epoch.
    private const long ResidentGrowthBound = 24L * 1024 * 1024;

    [Fact]
    public void Fit_TwentyEpochs_NoTensorOrMemoryGrowthAfterTheFirstEpoch()
    {
        using var folder = new TempDirectory();
        using var train = LearnableDigits.Make(256, seed: 1);
        using var test = LearnableDigits.Make(64, seed: 2);
        using var model = new ConvNet(seed: 0);
        var liveTensors = new List<long>();
        var resident = new List<long>();
        var progress = SynchronousProgress.OnEpochCompleted(_ =>
        {
            // Finalizers release tensors nobody disposed; collecting first shows what is really still held.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            liveTensors.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            using var self = Process.GetCurrentProcess();
            resident.Add(self.WorkingSet64);
        });
        var options = new TrainerOptions
        {
            Device = TrainingDevice.Cpu,
            Epochs = Epochs,
            Seed = 0,
            LearningRate = 0.003,
            CheckpointPath = folder.File("run.ckpt"),
            Callbacks = [new BestModelCheckpoint(folder.File("best.safetensors"))],
        };

        var history = new Trainer(options).Fit(
            model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 32, Shuffle = true }), new DigitDataLoader(test), progress);

        var residentGrowth = resident.Skip(1).Max() - resident[0];
        var tensorGrowth = liveTensors.Skip(1).Max() - liveTensors[0];
        ReliabilityReport.Record(
            "Long run (20 epochs, 8 steps each, validation, checkpoint and best model every epoch)",
            [
                $"live tensors after each epoch: {string.Join(" ", liveTensors)} (growth after epoch 1: {tensorGrowth}, bound 0)",
                $"resident memory after epoch 1: {resident[0] / 1048576.0:F1} MiB; largest growth after it: {residentGrowth / 1048576.0:F1} MiB (bound {ResidentGrowthBound / 1048576} MiB)",
                $"resident memory per epoch, MiB: {string.Join(" ", resident.Select(r => (r / 1048576.0).ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}",
            ],
            output);

        history.Epochs.Should().HaveCount(Epochs);
        liveTensors.Should().HaveCount(Epochs).And.OnlyContain(count => count == liveTensors[0]);
        residentGrowth.Should().BeLessThanOrEqualTo(ResidentGrowthBound);
    }
}
