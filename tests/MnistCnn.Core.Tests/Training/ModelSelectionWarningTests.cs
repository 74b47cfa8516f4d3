using MnistCnn.Core.Data;
using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.Tests.Training;

[Collection(TorchGlobalState.Name)]
public sealed class ModelSelectionWarningTests
{
    [Fact]
    public void Fit_BestModelSelectionOnTheTestSplit_LogsAWarning_OnAHeldOutPart_DoesNot()
    {
        using var folder = new TempDirectory();
        var (pixels, labels) = SyntheticDigits.Make(40);
        IdxFile.WriteImages(folder.File("train-images-idx3-ubyte"), pixels, 40, 28, 28);
        IdxFile.WriteLabels(folder.File("train-labels-idx1-ubyte"), labels);
        IdxFile.WriteImages(folder.File("t10k-images-idx3-ubyte"), pixels, 40, 28, 28);
        IdxFile.WriteLabels(folder.File("t10k-labels-idx1-ubyte"), labels);
        using var train = MnistDataset.Load(folder.Path, MnistSplit.Train);
        using var test = MnistDataset.Load(folder.Path, MnistSplit.Test);
        var (fitPart, heldOut) = train.Split(0.25, seed: 0);
        using var _ = fitPart;
        using var __ = heldOut;
        var options = new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 1, Threads = 1, Callbacks = [new BestModelCheckpoint()] };

        var onTest = new ListLogger();
        using (var model = new ConvNet(seed: 0))
        {
            new Trainer(options, onTest).Fit(model, new DigitDataLoader(fitPart), new DigitDataLoader(test));
        }

        var onHeldOut = new ListLogger();
        using (var model = new ConvNet(seed: 0))
        {
            new Trainer(options, onHeldOut).Fit(model, new DigitDataLoader(fitPart), new DigitDataLoader(heldOut));
        }

        onTest.Entries.Should().ContainSingle(e => e.EventId.Id == 1011)
            .Which.Message.Should().Contain("BestModelCheckpoint").And.Contain("test split").And.Contain("DigitDataset.Split");
        onHeldOut.Entries.Should().NotContain(e => e.EventId.Id == 1011);

        // A part of the test split is test data still.
        var (testPart, testHeldOut) = test.Split(0.5, seed: 0);
        using var ___ = testPart;
        using var ____ = testHeldOut;
        var onTestPart = new ListLogger();
        using (var model = new ConvNet(seed: 0))
        {
            new Trainer(options, onTestPart).Fit(model, new DigitDataLoader(fitPart), new DigitDataLoader(testHeldOut));
        }

        onTestPart.Entries.Should().ContainSingle(e => e.EventId.Id == 1011);
    }
}
