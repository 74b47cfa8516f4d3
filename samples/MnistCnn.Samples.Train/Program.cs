// Trains a network with MnistCnn.Core and prints, per epoch, the case study's line "Epoch: N Loss: L Accuracy: A"
// (mean training loss, test accuracy in percent). --preset faithful (default): the PyTorch case study's ConvNet and
// recipe; --preset best: the library's TrainingRecipe.Best (LeNet, augmentation, one-cycle Adam, label smoothing, 11 epochs);
// --preset speedrun: the library's TrainingRecipe.Speedrun (SpeedrunNet, one-cycle Adam, 1 epoch). --dataset mnist (default), fashion or kmnist.
// Writes <output>/convnet.safetensors (lenet.safetensors with --preset best, speedrunnet.safetensors with --preset speedrun), <output>/summary.json (with per-class precision, recall and F1),
// <output>/curves.png and <output>/confusion.png, each under a temporary name first and renamed into place.
// Also reports what the final model gets wrong: the test images with the highest loss and the most confused pairs,
// drawn as <output>/mistakes.png. --find-lr sweeps the learning rate instead of training (a short run from 1e-7 up,
// the model restored afterwards): it writes <output>/lr-find.png and prints the suggested rate for --lr.
// With --checkpoint <folder> a checkpoint is written there after every epoch; a run stopped by Ctrl+C (or killed)
// continues with the same command plus --resume, and ends with the weights an uninterrupted run would have.
// Exit codes: 0 done, 1 failed (data, model or device), 2 bad arguments, 130 cancelled.
using MnistCnn.Core.Data.Download;
using MnistCnn.Core.Data.Idx;
using System.Text.Json;
using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using MnistCnn.Samples.Train;
using Spectre.Console;

TrainArguments arguments;
try
{
    arguments = TrainArguments.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    Console.Error.WriteLine(TrainArguments.Usage);
    return 2;
}

if (arguments.Help)
{
    Console.WriteLine(TrainArguments.Usage);
    return 0;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

try
{
    if (arguments.Download)
    {
        Console.WriteLine($"Fetching {arguments.Dataset.Name} into {arguments.DataFolder} (skipped for files already there and verified)");
        await new MnistDownloader().DownloadAsync(arguments.DataFolder, arguments.Dataset, cancellationToken: cancellation.Token);
    }

    if (arguments.Dataset != MnistDatasetInfo.Mnist)
    {
        Console.WriteLine($"Data set: {arguments.Dataset.Name} from {arguments.DataFolder}");
    }

    using var train = MnistDataset.Load(arguments.DataFolder, MnistSplit.Train, arguments.Dataset.DatasetOptions);
    using var test = MnistDataset.Load(arguments.DataFolder, MnistSplit.Test, arguments.Dataset.DatasetOptions);
    // --preset best and --preset speedrun are the library's named recipes (TrainingRecipe.Best, .Speedrun); --epochs,
    // --batch-size, --lr (the one-cycle peak) and --label-smoothing change them. The faithful preset is the case study's plain Adam.
    var recipe = arguments.Preset switch
    {
        TrainingPreset.Best => TrainingRecipe.Best,
        TrainingPreset.Speedrun => TrainingRecipe.Speedrun,
        _ => null,
    };
    recipe = recipe is null ? null : recipe with
    {
        Epochs = arguments.Epochs,
        BatchSize = arguments.BatchSize,
        MaxLearningRate = arguments.LearningRate,
        LabelSmoothing = arguments.LabelSmoothing,
    };
    var trainLoader = new DigitDataLoader(train, new DigitDataLoaderOptions
    {
        BatchSize = arguments.BatchSize,
        Shuffle = arguments.Shuffle,

        // The recipe's augmentation, else shifts up to 2 px, rotations up to 10 degrees and scales 0.9-1.1; drawn
        // from the run's seed; the test set is never augmented.
        Augmentation = arguments.Augment ? recipe?.Augmentation ?? new DigitAugmentation() : null,
    });
    var testLoader = new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = arguments.BatchSize });
    using TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> model = recipe?.CreateModel(arguments.Seed) ?? new ConvNet(arguments.Seed);
    // The run's seed orders the shuffled epochs; "--seed none" draws one (the weights then come from torch's generator).
    var runSeed = arguments.Seed ?? Random.Shared.NextInt64(0, long.MaxValue);
    if (arguments.Seed is null && arguments.CheckpointFolder is not null)
    {
        Console.WriteLine($"Seed drawn for this run: {runSeed} (to continue it: --seed {runSeed} --resume)");
    }

    var recipeOptions = recipe?.CreateTrainerOptions(runSeed) ?? new TrainerOptions { LearningRate = arguments.LearningRate, LabelSmoothing = arguments.LabelSmoothing };
    var trainer = new Trainer(recipeOptions with
    {
        Epochs = arguments.Epochs,
        Seed = runSeed,
        Device = arguments.Device,
        Threads = arguments.Threads,
        CheckpointPath = arguments.CheckpointPath,
    });
    // Every report names what it describes: the model, the preset and the data set.
    var subject = $"{model.GetType().Name} on {arguments.Dataset.Name}, preset {arguments.Preset.ToString().ToLowerInvariant()}";
    if (arguments.FindLearningRate)
    {
        Console.WriteLine($"Sweeping the learning rate for {model.GetType().Name} (batch {arguments.BatchSize}; fastai's lr_find defaults: 100 steps from 1e-7 to 10)");
        var sweep = new LearningRateFinder(trainer.Options).Find(model, trainLoader, cancellationToken: cancellation.Token);
        Directory.CreateDirectory(arguments.OutputFolder);
        OutputFile.Write(Path.Combine(arguments.OutputFolder, "lr-find.png"), temporary => LearningRatePlot.SavePng(sweep, subject, temporary));
        Console.WriteLine(
            $"Suggested learning rate: {sweep.SuggestedLearningRate:G3} (steepest fall of the loss; lowest loss at {sweep.MinimumLossLearningRate:G3}" +
            $"{(sweep.Diverged ? $", diverged after {sweep.Points.Count} steps" : string.Empty)}); train with --lr {sweep.SuggestedLearningRate:G3}");
        var (first, lowest) = (sweep.Points[0].SmoothedLoss, sweep.Points.Min(p => p.SmoothedLoss));
        if (lowest > first * 0.95)
        {
            // The sigmoid ConvNet sits on a plateau for its first few hundred batches at any rate: no slope to read.
            Console.WriteLine($"note: the smoothed loss never fell 5% below its start ({first:F3} -> lowest {lowest:F3}), so the suggestion is noise: this network needs more steps than the sweep before it learns at any rate");
        }

        Console.WriteLine($"Wrote lr-find.png in {arguments.OutputFolder}");
        return 0;
    }

    var resuming = arguments.Resume && File.Exists(arguments.CheckpointPath);
    if (arguments.CheckpointFolder is not null)
    {
        Directory.CreateDirectory(arguments.CheckpointFolder);
        Console.WriteLine(resuming
            ? $"Resuming from {arguments.CheckpointPath}"
            : $"Checkpoint after every epoch: {arguments.CheckpointPath}{(arguments.Resume ? " (none there yet: starting from the beginning)" : string.Empty)}");
    }

    Console.WriteLine(
        $"Training {arguments.Preset switch { TrainingPreset.Best => "LeNet (--preset best: one-cycle Adam, augmentation)", TrainingPreset.Speedrun => "SpeedrunNet (--preset speedrun: one-cycle Adam, betas 0.7/0.9)", _ => "the case study's ConvNet" }} on {train.Count} images, testing on {test.Count}: {arguments.Epochs} epochs, batch {arguments.BatchSize}, " +
        $"lr {arguments.LearningRate}, seed {arguments.Seed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, shuffle {(arguments.Shuffle ? "on" : "off")}, " +
        $"augmentation {(arguments.Augment ? "on" : "off")}{(arguments.LabelSmoothing > 0 ? $", label smoothing {arguments.LabelSmoothing}" : string.Empty)}");
    TrainingHistory Run(IProgress<TrainingProgress> progress) => resuming
        ? trainer.Resume(arguments.CheckpointPath!, model, trainLoader, testLoader, progress, cancellation.Token)
        : trainer.Fit(model, trainLoader, testLoader, progress, cancellation.Token);
    var clock = System.Diagnostics.Stopwatch.StartNew();
    var history = Console.IsOutputRedirected ? Run(new PlainProgress()) : WithProgressBar(Run);
    var trainingTime = clock.Elapsed;

    Directory.CreateDirectory(arguments.OutputFolder);
    var modelPath = Path.Combine(arguments.OutputFolder, model.GetType().Name.ToLowerInvariant() + ".safetensors");
    ModelWeights.Save(model, modelPath);
    // The final model's outcome per class: the confusion matrix of one more pass over the test set.
    var evaluation = Validator.Evaluate(model, testLoader, cancellation.Token);
    var summary = new RunSummary(
        history.Device, arguments.Preset.ToString().ToLowerInvariant(), model.GetType().Name, arguments.Epochs, arguments.BatchSize, arguments.LearningRate, arguments.Seed, arguments.Shuffle, arguments.Augment,
        history.Last?.ValidationAccuracy, Math.Round(trainingTime.TotalSeconds, 1), modelPath, history.Epochs, ClassMetrics.From(evaluation))
    {
        Dataset = arguments.Dataset.Name,
        TrainingOnlySeconds = Math.Round(history.Epochs.Sum(e => e.TrainDuration.TotalSeconds), 3),
        ClassNames = arguments.Dataset.ClassNames,
    };
    var json = JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true });
    OutputFile.Write(Path.Combine(arguments.OutputFolder, "summary.json"), temporary => File.WriteAllText(temporary, json));
    OutputFile.Write(Path.Combine(arguments.OutputFolder, "curves.png"), temporary => TrainingCurves.SavePng(history.Epochs, subject, temporary));
    OutputFile.Write(Path.Combine(arguments.OutputFolder, "confusion.png"), temporary => ConfusionMatrixPlot.SavePng(evaluation, subject, temporary, test.ClassNames));
    var mistakes = MistakeAnalysis.Analyze(model, test, new MistakeAnalysisOptions { TopLosses = 16, ConfusedPairs = 8 }, cancellation.Token);
    OutputFile.Write(Path.Combine(arguments.OutputFolder, "mistakes.png"), temporary => MistakesImage.SavePng(mistakes, subject, temporary));

    Console.WriteLine($"Final accuracy: {history.Last?.ValidationAccuracy:F2}% on {history.Device}");
    Console.WriteLine($"Training time: {trainingTime.TotalMinutes:F1} min ({trainingTime.TotalSeconds:F0} s, validation included{(resuming ? ", this process only" : string.Empty)}); " +
        $"training alone {history.Epochs.Sum(e => e.TrainDuration.TotalSeconds):F2} s");
    Console.WriteLine($"Macro F1: {evaluation.MacroF1:F4}, top-2 accuracy {evaluation.TopKAccuracy(2):F2}%; per class in summary.json");
    Console.WriteLine("Most wrong about (test image: label -> predicted, confidence): " + string.Join(
        ", ", mistakes.TopLosses.Take(5).Select(m => $"#{m.Index}: {mistakes.ClassNames[m.Label]} -> {mistakes.ClassNames[m.Predicted]}, {m.Confidence:F2}")));
    Console.WriteLine("Most confused (label -> predicted: images): " + string.Join(
        ", ", mistakes.MostConfused.Take(5).Select(p => $"{mistakes.ClassNames[p.Label]} -> {mistakes.ClassNames[p.Predicted]}: {p.Count}")));
    Console.WriteLine($"Wrote {modelPath}, summary.json, curves.png, confusion.png and mistakes.png in {arguments.OutputFolder}");
    return 0;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine(arguments.CheckpointPath is { } checkpoint && File.Exists(checkpoint)
        ? $"cancelled; {checkpoint} holds the last completed epoch: run the same command with --resume to continue"
        : "cancelled");
    return 130;
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
{
    // IdxFormatException, ModelFileException and MnistDownloadException are IOExceptions; a missing
    // CUDA device is an InvalidOperationException. Their messages name the file or the cause.
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

static TrainingHistory WithProgressBar(Func<IProgress<TrainingProgress>, TrainingHistory> run) =>
    AnsiConsole.Progress()
        .AutoClear(false)
        .HideCompleted(false)
        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
        .Start(context => run(new ProgressBar(context)));
