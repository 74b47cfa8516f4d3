using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// Trains a classifier with Adam and cross-entropy loss on the CPU or a CUDA device, validating once per
/// epoch over the whole validation loader.
/// </summary>
/// <remarks>
/// <para>Each training step runs in its own dispose scope, so per-step tensors are released every step.</para>
/// <para>
/// Cancellation is checked before every batch. When it is requested, <see cref="Fit"/> throws
/// <see cref="OperationCanceledException"/>; the model keeps the weights of the last completed step, and the
/// checkpoint file (when configured) still holds the last completed epoch.
/// </para>
/// <para>
/// A NaN or infinite batch loss stops the run with <see cref="TrainingDivergedException"/> naming the epoch
/// and batch; the checkpoint file is not overwritten by the diverged epoch.
/// </para>
/// </remarks>
public sealed class Trainer : ITrainer
{
    private readonly ILogger _logger;

    /// <summary>Initializes a trainer.</summary>
    /// <param name="options">The run's options; <see langword="null"/> for the case study's defaults.</param>
    /// <param name="logger">Receives progress and device messages; <see langword="null"/> for none.</param>
    public Trainer(TrainerOptions? options = null, ILogger<Trainer>? logger = null)
    {
        Options = options ?? new TrainerOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the trainer's options.</summary>
    public TrainerOptions Options { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="trainLoader"/> is null, or <paramref name="valLoader"/> is null while a callback needs validation (<see cref="BestModelCheckpoint"/>, <see cref="EarlyStopping"/>).</exception>
    /// <exception cref="ArgumentException">The model has no parameters, cannot take the images, its output width differs from the class count, or the loaders' datasets differ in image size or classes. Checked before any work starts.</exception>
    /// <exception cref="ObjectDisposedException">A loader's dataset is disposed.</exception>
    /// <exception cref="InvalidOperationException"><see cref="TrainingDevice.Cuda"/> was asked for but CUDA is not available.</exception>
    /// <exception cref="TrainingDivergedException">A batch loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    public TrainingHistory Fit(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        Run(TorchRuntime.Checked(model), trainLoader, valLoader, progress, checkpointPath: null, cancellationToken);

    /// <summary>
    /// Continues a run from a checkpoint written by a trainer with <see cref="TrainerOptions.CheckpointPath"/>:
    /// restores the weights, the optimizer state, the random generator and the history, then trains the
    /// remaining epochs up to <see cref="TrainerOptions.Epochs"/>. With the same options, seed and data the
    /// result equals that of an uninterrupted run.
    /// </summary>
    /// <param name="checkpointPath">The checkpoint file.</param>
    /// <param name="model">A model of the architecture the checkpoint was written from.</param>
    /// <param name="trainLoader">The training batches.</param>
    /// <param name="valLoader">The validation batches, or <see langword="null"/> to skip validation.</param>
    /// <param name="progress">Receives a report after every batch and every epoch; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The history of the whole run, the checkpoint's epochs included.</returns>
    /// <exception cref="FileNotFoundException">The checkpoint does not exist.</exception>
    /// <exception cref="Models.ModelFileException">The checkpoint is damaged or was written from another architecture.</exception>
    public TrainingHistory Resume(
        string checkpointPath,
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        return Run(model, trainLoader, valLoader, progress, checkpointPath, cancellationToken);
    }

    /// <summary>Resolves a <see cref="TrainingDevice"/> to a torch device.</summary>
    /// <param name="device">The requested device.</param>
    /// <returns>The device, and why it was chosen.</returns>
    /// <exception cref="InvalidOperationException"><see cref="TrainingDevice.Cuda"/> was asked for but CUDA is not available.</exception>
    public static (Device Device, string Reason) ResolveDevice(TrainingDevice device) => TorchRuntime.Checked(device) switch
    {
        TrainingDevice.Cpu => (CPU, "the CPU was requested"),
        TrainingDevice.Cuda when cuda.is_available() => (CUDA, "CUDA was requested"),
        TrainingDevice.Cuda => throw new InvalidOperationException(
            "CUDA was requested but TorchSharp reports no usable CUDA device; reference a CUDA backend package (TorchSharp-cuda-windows or TorchSharp-cuda-linux) and check the driver."),
        TrainingDevice.Auto when cuda.is_available() => (CUDA, "TorchSharp reports a CUDA device"),
        TrainingDevice.Auto => (CPU, "no CUDA device is available (no CUDA backend package, driver or GPU)"),
        _ => throw new ArgumentOutOfRangeException(nameof(device), device, "Unknown training device."),
    };

    private TrainingHistory Run(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader,
        IProgress<TrainingProgress>? progress,
        string? checkpointPath,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainLoader);
        if (!model.parameters().Any())
        {
            throw new ArgumentException("The model has no parameters to train.", nameof(model));
        }

        if (valLoader is not null)
        {
            var (t, v) = (trainLoader.Dataset, valLoader.Dataset);
            if (t.ImageHeight != v.ImageHeight || t.ImageWidth != v.ImageWidth || t.ClassCount != v.ClassCount)
            {
                throw new ArgumentException(
                    $"The validation data ({v.ImageHeight}x{v.ImageWidth}, {v.ClassCount} classes) does not match the training data ({t.ImageHeight}x{t.ImageWidth}, {t.ClassCount} classes).",
                    nameof(valLoader));
            }
        }

        if (valLoader is null && Options.Callbacks.FirstOrDefault(c => c is BestModelCheckpoint or EarlyStopping) is { } needsValidation)
        {
            throw new ArgumentNullException(nameof(valLoader), $"{needsValidation.GetType().Name} needs validation accuracy: pass a validation loader.");
        }

        CheckModelFitsData(model, trainLoader.Dataset);
        if (valLoader is not null)
        {
            CheckModelFitsData(model, valLoader.Dataset);
        }

        var (device, reason) = ResolveDevice(Options.Device);
        TrainerLog.DeviceChosen(_logger, device, reason);
        if (Options.Threads is { } threads)
        {
            set_num_threads(threads);
        }

        if (Options.Seed is { } seed)
        {
            manual_seed(seed);
        }

        model.to(device);
        using var optimizer = CreateOptimizer(model);
        var history = new List<EpochResult>();
        var settings = CheckpointSettings.Of(Options, trainLoader);
        if (checkpointPath is not null)
        {
            var (completed, saved) = TrainingCheckpoint.Restore(checkpointPath, model, optimizer, history);
            TrainerLog.Resuming(_logger, checkpointPath, completed);
            if (saved != settings)
            {
                // Allowed (a new learning rate can be deliberate), but the run will not repeat the original.
                TrainerLog.SettingsChanged(_logger, checkpointPath, saved.ToString(), settings.ToString());
            }
        }

        var context = new TrainingContext(model, Options, history);
        foreach (var callback in Options.Callbacks)
        {
            callback.OnFitStart(context);
        }

        for (var epoch = history.Count; epoch < Options.Epochs && !context.StopRequested; epoch++)
        {
            var learningRate = Options.LearningRateSchedule?.Invoke(epoch, Options.LearningRate) ?? Options.LearningRate;
            if (!double.IsFinite(learningRate) || learningRate <= 0)
            {
                throw new InvalidOperationException($"The learning-rate schedule returned {learningRate} for epoch {epoch + 1}; it must be finite and greater than zero.");
            }

            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = learningRate;
            }

            TrainerLog.EpochStarted(_logger, epoch + 1, Options.Epochs, learningRate);
            var result = RunEpoch(model, optimizer, trainLoader, valLoader, device, epoch, learningRate, progress, cancellationToken);
            history.Add(result);
            TrainerLog.EpochCompleted(_logger, result.Epoch, result.TrainLossMean, result.TrainLossLast, result.ValidationLoss, result.ValidationAccuracy, result.ImagesPerSecond);

            foreach (var callback in Options.Callbacks)
            {
                callback.OnEpochEnd(context);
            }

            if (Options.CheckpointPath is { } path)
            {
                TrainingCheckpoint.Save(path, model, optimizer, history, settings);
                TrainerLog.CheckpointWritten(_logger, result.Epoch, path);
            }

            progress?.Report(new TrainingProgress(TrainingPhase.EpochCompleted, result.Epoch, Options.Epochs, trainLoader.BatchCount, trainLoader.BatchCount, result.TrainLossMean, result));
            if (context.StopRequested)
            {
                TrainerLog.StopRequested(_logger, result.Epoch);
            }
        }

        foreach (var callback in Options.Callbacks)
        {
            callback.OnFitEnd(context);
        }

        return new TrainingHistory(history.ToArray(), device.ToString(), context.StopRequested && history.Count < Options.Epochs);
    }

    /// <summary>
    /// Runs the model on the dataset's first image before anything changes (seed, threads, callbacks,
    /// checkpoint, weights), so that a disposed dataset, images the model cannot take, or an output width
    /// other than the class count fail first. In evaluation mode and without gradients, so layers that keep
    /// statistics are untouched; the model's mode is restored.
    /// </summary>
    private static void CheckModelFitsData(nn.Module<Tensor, Tensor> model, IDigitDataset dataset)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var batch = dataset.GetBatch(0, 1);
            var logits = model.call(batch.Images.to(Validator.DeviceOf(model)));
            if (logits.dim() != 2 || logits.shape[1] != dataset.ClassCount)
            {
                throw new ArgumentException(
                    $"The model returns logits of shape [{string.Join(", ", logits.shape)}] but the dataset has {dataset.ClassCount} classes.", nameof(model));
            }
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Creates the run's optimizer: Adam with the options' hyperparameters (TorchSharp's, with a fused CPU update; see <see cref="FusedAdam"/>).</summary>
    internal OptimizerHelper CreateOptimizer(nn.Module model) =>
        new FusedAdam(model.parameters(), Options.LearningRate, Options.Beta1, Options.Beta2, Options.Epsilon, Options.WeightDecay);

    /// <summary>
    /// One training step: forward, mean cross-entropy, zero_grad, backward, optimizer step. Returns the
    /// batch's loss before the update. Runs inside the caller's dispose scope.
    /// </summary>
    internal static double Step(nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer, Tensor images, Tensor labels, int classes)
    {
        var logits = model.call(images);
        if (logits.dim() != 2 || logits.shape[1] != classes)
        {
            throw new ArgumentException(
                $"The model returns logits of shape [{string.Join(", ", logits.shape)}] but the dataset has {classes} classes.", nameof(model));
        }

        var loss = nn.functional.cross_entropy(logits, labels);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();

        // Read the raw value: item<float>() refuses to convert an infinite loss.
        return loss.detach().cpu().data<float>()[0];
    }

    private EpochResult RunEpoch(
        nn.Module<Tensor, Tensor> model,
        OptimizerHelper optimizer,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader,
        Device device,
        int epoch,
        double learningRate,
        IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        var classes = trainLoader.Dataset.ClassCount;
        var batches = Options.Seed is { } seed ? trainLoader.GetBatches(epoch, seed) : trainLoader.GetBatches(epoch);
        var (lossSum, lastLoss, batchIndex, images) = (0.0, 0.0, 0, 0L);
        model.train();
        var clock = Stopwatch.StartNew();
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            using (batch)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    TrainerLog.Cancelled(_logger, epoch + 1, batchIndex + 1);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                lastLoss = Step(model, optimizer, batch.Images.to(device), batch.Labels.to(device), classes);
                batchIndex++;
                images += batch.Count;
                if (!double.IsFinite(lastLoss))
                {
                    TrainerLog.Diverged(_logger, epoch + 1, batchIndex, lastLoss);
                    throw new TrainingDivergedException(epoch + 1, batchIndex, lastLoss);
                }

                lossSum += lastLoss;
                progress?.Report(new TrainingProgress(TrainingPhase.TrainingBatch, epoch + 1, Options.Epochs, batchIndex, trainLoader.BatchCount, lastLoss, null));
            }
        }

        var trainTime = clock.Elapsed;
        EvaluationResult? validation = null;
        var validationTime = TimeSpan.Zero;
        if (valLoader is not null)
        {
            progress?.Report(new TrainingProgress(TrainingPhase.Validating, epoch + 1, Options.Epochs, batchIndex, trainLoader.BatchCount, lossSum / batchIndex, null));
            clock.Restart();
            validation = Options.ValidationBatchSize is { } validationBatch
                ? Validator.Evaluate(model, valLoader, validationBatch, cancellationToken)
                : Validator.Evaluate(model, valLoader, cancellationToken);
            validationTime = clock.Elapsed;
        }

        return new EpochResult(
            epoch + 1,
            learningRate,
            lossSum / batchIndex,
            lastLoss,
            validation?.Loss,
            validation?.Accuracy,
            trainTime,
            validationTime,
            images / Math.Max(trainTime.TotalSeconds, 1e-9));
    }
}
