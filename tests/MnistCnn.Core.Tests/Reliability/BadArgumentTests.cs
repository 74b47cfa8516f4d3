using MnistCnn.Core.Data.Download;
using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// Bad arguments across the public API raise the standard argument exceptions with clear messages, and the
/// trainer rejects them before any work starts: no seed, callback, checkpoint, progress report or weight change.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(TorchGlobalState.Name)]
public sealed class BadArgumentTests(ITestOutputHelper output)
{
    private static readonly TrainerOptions Cpu = new() { Device = TrainingDevice.Cpu };

    [Fact]
    public void PublicApi_BadArguments_ThrowStandardArgumentExceptionsNamingTheProblem()
    {
        using var folder = new TempDirectory();
        using var data = LearnableDigits.Make(20);
        using var model = new ConvNet(seed: 0);
        var disposed = LearnableDigits.Make(20);
        disposed.Dispose();
        var loader = new DigitDataLoader(data);
        using var wrongShape = zeros(2, 1, 14, 14);
        var failures = new List<string>();
        var tried = 0;

        void Case<TException>(string what, Action act, string? parameter, string messagePart)
            where TException : Exception
        {
            tried++;
            try
            {
                act();
                failures.Add($"{what}: no exception");
            }
            catch (Exception e) when (e.GetType() == typeof(TException))
            {
                var named = parameter is null || (e as ArgumentException)?.ParamName == parameter;
                if (!named || !e.Message.Contains(messagePart, StringComparison.OrdinalIgnoreCase))
                {
                    failures.Add($"{what}: {typeof(TException).Name} without parameter '{parameter}' or '{messagePart}': {e.Message}");
                }
            }
            catch (Exception e)
            {
                failures.Add($"{what}: {e.GetType().Name} instead of {typeof(TException).Name}: {e.Message}");
            }
        }

        Case<ArgumentOutOfRangeException>("batch size 0", () => _ = new DigitDataLoaderOptions { BatchSize = 0 }, "BatchSize", "0");
        Case<ArgumentOutOfRangeException>("epochs 0", () => _ = new TrainerOptions { Epochs = 0 }, "Epochs", "0");
        Case<ArgumentOutOfRangeException>("negative learning rate", () => _ = new TrainerOptions { LearningRate = -0.01 }, "LearningRate", "greater than zero");
        Case<ArgumentOutOfRangeException>("infinite learning rate", () => _ = new TrainerOptions { LearningRate = double.PositiveInfinity }, "LearningRate", "finite");
        Case<ArgumentOutOfRangeException>("negative weight decay", () => _ = new TrainerOptions { WeightDecay = -1 }, "WeightDecay", "negative");
        Case<ArgumentOutOfRangeException>("beta2 = 1", () => _ = new TrainerOptions { Beta2 = 1 }, "Beta2", "[0, 1)");
        Case<ArgumentOutOfRangeException>("0 threads", () => _ = new TrainerOptions { Threads = 0 }, "Threads", "0");
        Case<ArgumentException>("blank checkpoint path", () => _ = new TrainerOptions { CheckpointPath = " " }, "CheckpointPath", "CheckpointPath");
        Case<ArgumentNullException>("null callbacks", () => _ = new TrainerOptions { Callbacks = null! }, "Callbacks", "Callbacks");
        Case<ArgumentException>("a null callback", () => _ = new TrainerOptions { Callbacks = [null!] }, "Callbacks", "null");
        Case<ArgumentOutOfRangeException>("class count 0", () => _ = new DigitDatasetOptions { ClassCount = 0 }, "value", "0");
        Case<ArgumentOutOfRangeException>("patience 0", () => _ = new EarlyStopping(patience: 0), "patience", "0");
        Case<ArgumentException>("blank best-model path", () => _ = new BestModelCheckpoint(" "), "path", "path");
        Case<ArgumentException>("empty dataset", () => _ = new DigitDataset([], [], 28, 28), "labels", "at least one image");
        Case<ArgumentNullException>("null pixels", () => _ = new DigitDataset(null!, [1], 28, 28), "pixels", "pixels");
        Case<ArgumentException>("pixels of the wrong length", () => _ = new DigitDataset(new byte[10], [1], 28, 28), "pixels", "784");
        Case<ArgumentException>("label above the class count", () => _ = new DigitDataset(new byte[784], [10], 28, 28), "labels", "class count 10");
        Case<ArgumentOutOfRangeException>("height 0", () => _ = new DigitDataset(new byte[784], [1], 0, 28), "imageHeight", "0");
        Case<ObjectDisposedException>("batch of a disposed dataset", () => disposed.GetBatch(0, 1).Dispose(), null, nameof(DigitDataset));
        Case<ObjectDisposedException>("label of a disposed dataset", () => disposed.GetLabel(0), null, nameof(DigitDataset));
        Case<ArgumentOutOfRangeException>("batch past the end", () => data.GetBatch(15, 10).Dispose(), "count", "exceed");
        Case<ArgumentNullException>("loader without dataset", () => _ = new DigitDataLoader(null!), "dataset", "dataset");
        Case<ArgumentOutOfRangeException>("negative epoch", () => loader.GetBatches(-1), "epoch", "-1");
        Case<ArgumentNullException>("fit without model", () => new Trainer(Cpu).Fit(null!, loader), "model", "model");
        Case<ArgumentNullException>("fit without loader", () => new Trainer(Cpu).Fit(model, null!), "trainLoader", "trainLoader");
        Case<ArgumentNullException>("resume without checkpoint", () => new Trainer(Cpu).Resume(null!, model, loader), "checkpointPath", "checkpointPath");
        Case<ArgumentException>("fit a model of another output width", () => new Trainer(Cpu).Fit(new WideNet(), loader), "model", "10 classes");
        Case<ArgumentException>("fit images the model cannot take", () => new Trainer(Cpu).Fit(model, SmallImagesLoader()), "input", "[N, 1, 28, 28]");
        Case<ObjectDisposedException>("fit a disposed dataset", () => new Trainer(Cpu).Fit(model, new DigitDataLoader(disposed)), null, nameof(DigitDataset));
        Case<ArgumentNullException>("best-model checkpoint without validation", () => new Trainer(Cpu with { Callbacks = [new BestModelCheckpoint()] }).Fit(model, loader), "valLoader", "validation");
        Case<ArgumentNullException>("early stopping without validation", () => new Trainer(Cpu with { Callbacks = [new EarlyStopping()] }).Fit(model, loader), "valLoader", "validation");
        Case<ArgumentNullException>("validate without model", () => Validator.Evaluate(null!, loader), "model", "model");
        Case<ArgumentNullException>("validate without loader", () => Validator.Evaluate(model, null!), "loader", "loader");
        Case<ArgumentException>("validate a model of another output width", () => Validator.Evaluate(new WideNet(), loader), "model", "10 classes");
        Case<ObjectDisposedException>("validate a disposed dataset", () => Validator.Evaluate(model, new DigitDataLoader(disposed)), null, nameof(DigitDataset));
        Case<ArgumentException>("images of the wrong shape", () => model.call(wrongShape), "input", "[N, 1, 28, 28]");
        Case<ArgumentException>("save weights to an empty path", () => ModelWeights.Save(model, string.Empty), "path", "path");
        Case<ArgumentNullException>("load weights into no model", () => ModelWeights.Load(null!, folder.File("w")), "model", "model");
        Case<ArgumentException>("read labels from an empty path", () => IdxFile.ReadLabels(string.Empty), "path", "path");
        Case<ArgumentException>("write no labels", () => IdxFile.WriteLabels(folder.File("l"), []), "labels", "at least one label");
        Case<ArgumentOutOfRangeException>("write 0 images", () => IdxFile.WriteImages(folder.File("i"), [], 0, 28, 28), "count", "0");
        Case<ArgumentException>("load from an empty folder name", () => MnistDataset.Load(string.Empty, MnistSplit.Train), "folder", "folder");
        Case<ArgumentOutOfRangeException>("load an undefined split", () => MnistDataset.Load(folder.Path, (MnistSplit)7), "split", "split");
        Case<ArgumentNullException>("downloader without options", () => _ = new MnistDownloader(null!), "options", "options");
        Case<ArgumentException>("download into a blank folder", () => new MnistDownloader().DownloadAsync(" ").GetAwaiter().GetResult(), "directory", "directory");
        Case<ArgumentException>("no mirrors", () => _ = new MnistDownloadOptions { Mirrors = [] }, "value", "mirror");
        Case<ArgumentOutOfRangeException>("negative request timeout", () => _ = new MnistDownloadOptions { RequestTimeout = TimeSpan.FromSeconds(-1) }, "value", "request timeout");
        Case<ArgumentOutOfRangeException>("too many retries", () => _ = new MnistDownloadOptions { RetriesPerMirror = 11 }, "value", "10");

        ReliabilityReport.Record(
            "Bad arguments (public API)",
            [$"cases tried: {tried}; without the standard exception, parameter name or a clear message: {failures.Count}", .. failures],
            output);
        failures.Should().BeEmpty();
    }

    [Fact]
    public void Fit_ModelOfAnotherOutputWidth_FailsBeforeAnyWorkStarts()
    {
        using var folder = new TempDirectory();
        using var data = LearnableDigits.Make(20);
        using var model = new WideNet();
        var before = model.parameters().Select(p => p.detach().clone()).ToArray();
        manual_seed(123);
        using var rngBefore = get_rng_state();
        var callback = new CountingCallback();
        var reports = 0;
        var checkpoint = folder.File("run.ckpt");
        var trainer = new Trainer(Cpu with { Seed = 5, CheckpointPath = checkpoint, Callbacks = [callback] });

        var act = () => trainer.Fit(model, new DigitDataLoader(data), progress: new SynchronousProgress<TrainingProgress>(_ => reports++));

        act.Should().Throw<ArgumentException>().WithParameterName("model").WithMessage("*[1, 12]*10 classes*");
        using var rngAfter = get_rng_state();
        rngAfter.allclose(rngBefore, rtol: 0, atol: 0).Should().BeTrue("the seed must not be applied before the arguments are accepted");
        callback.Calls.Should().Be(0);
        reports.Should().Be(0);
        File.Exists(checkpoint).Should().BeFalse();
        model.parameters().Zip(before).Should().OnlyContain(p => p.First.allclose(p.Second, 0, 0, false));
        model.training.Should().BeTrue("the check must restore the model's mode");
        foreach (var tensor in before)
        {
            tensor.Dispose();
        }
    }

    private static DigitDataLoader SmallImagesLoader()
    {
        var (pixels, labels) = SyntheticDigits.Make(4, 14, 14);
        return new DigitDataLoader(new DigitDataset(pixels, labels, 14, 14));
    }

    private sealed class CountingCallback : TrainingCallback
    {
        public int Calls { get; private set; }

        public override void OnFitStart(TrainingContext context) => Calls++;

        public override void OnEpochEnd(TrainingContext context) => Calls++;
    }
}
