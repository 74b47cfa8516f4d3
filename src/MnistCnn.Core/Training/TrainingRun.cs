using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MnistCnn.Core.Data;
using MnistCnn.Core.Diagnostics;
using MnistCnn.Core.Evaluation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// One training run of a <see cref="Trainer"/>, from checked arguments to the history: the epoch loop and its
/// steps. Created per run, so runs share nothing but the trainer's options and logger.
/// </summary>
internal sealed class TrainingRun(
    Trainer trainer,
    ILogger logger,
    nn.Module<Tensor, Tensor> model,
    DigitDataLoader trainLoader,
    DigitDataLoader? valLoader,
    Device device,
    IProgress<TrainingProgress>? progress,
    CancellationToken cancellationToken)
{
    private readonly TrainerOptions _options = trainer.Options;
    private readonly List<EpochResult> _history = [];
    private readonly string _deviceName = device.ToString();
    private readonly int _batchesPerEpoch = trainLoader.BatchCount;
    private torch.optim.lr_scheduler.LRScheduler? _scheduler;

    /// <summary>Trains the remaining epochs (all of them, unless resuming from <paramref name="checkpointPath"/>).</summary>
    public TrainingHistory Execute(string? checkpointPath)
    {
        using var activity = Telemetry.Source.StartActivity(MnistCnnTelemetry.FitActivity);
        activity?.SetTag(MnistCnnTelemetry.DeviceTag, _deviceName);
        try
        {
            model.to(device);
            using var optimizer = trainer.CreateOptimizer(model);

            // Before the checkpoint is restored: TorchSharp's schedulers read the optimizer's initial learning rate
            // when they are created, and the restored optimizer state then replaces what they set at position 0.
            _scheduler = _options.LearningRateScheduler?.Create(optimizer, _options.Epochs, _batchesPerEpoch);
            var settings = CheckpointSettings.Of(_options, trainLoader);
            if (checkpointPath is not null)
            {
                RestoreCheckpoint(checkpointPath, optimizer, settings);
            }

            var context = new TrainingContext(model, _options, _history);
            foreach (var callback in _options.Callbacks)
            {
                callback.OnFitStart(context);
            }

            for (var epoch = _history.Count; epoch < _options.Epochs && !context.StopRequested; epoch++)
            {
                var result = RunEpoch(optimizer, epoch);
                _history.Add(result);
                EndEpoch(context, optimizer, settings, result);
            }

            foreach (var callback in _options.Callbacks)
            {
                callback.OnFitEnd(context);
            }

            return new TrainingHistory
            {
                Epochs = _history.ToArray(),
                Device = _deviceName,
                StoppedEarly = context.StopRequested && _history.Count < _options.Epochs,
            };
        }
        catch (Exception e)
        {
            Telemetry.Failed(activity, e);
            throw;
        }
    }

    private void RestoreCheckpoint(string path, OptimizerHelper optimizer, CheckpointSettings settings)
    {
        var (completed, saved) = TrainingCheckpoint.Restore(path, model, optimizer, _history);
        TrainerLog.Resuming(logger, path, completed);
        if (saved != settings)
        {
            // Allowed (a new learning rate can be deliberate), but the run will not repeat the original.
            TrainerLog.SettingsChanged(logger, path, saved.ToString(), settings.ToString());
        }
    }

    /// <summary>One epoch: set the learning rate (the first batch's, with a per-batch scheduler), train on every batch, validate.</summary>
    private EpochResult RunEpoch(OptimizerHelper optimizer, int epoch)
    {
        using var activity = Telemetry.Source.StartActivity(MnistCnnTelemetry.EpochActivity);
        activity?.SetTag(MnistCnnTelemetry.EpochTag, epoch + 1);
        var learningRate = SetLearningRate(optimizer, epoch);
        TrainerLog.EpochStarted(logger, epoch + 1, _options.Epochs, learningRate);
        var (lossMean, lossLast, images, trainTime) = Train(optimizer, epoch);
        var (validation, validationTime) = Validate(epoch, lossMean);
        var result = new EpochResult
        {
            Epoch = epoch + 1,
            LearningRate = learningRate,
            TrainLossMean = lossMean,
            TrainLossLast = lossLast,
            ValidationLoss = validation?.Loss,
            ValidationAccuracy = validation?.Accuracy,
            TrainDuration = trainTime,
            ValidationDuration = validationTime,
            ImagesPerSecond = images / Math.Max(trainTime.TotalSeconds, 1e-9),
        };
        Telemetry.EpochCompleted(images, _deviceName, result.TrainLossMean, result.ImagesPerSecond, result.TrainDuration + result.ValidationDuration,
            result.ValidationLoss, result.ValidationAccuracy);
        activity?.SetTag(MnistCnnTelemetry.LossGauge, result.TrainLossMean);
        activity?.SetTag(MnistCnnTelemetry.ValidationAccuracyGauge, result.ValidationAccuracy);
        return result;
    }

    private double SetLearningRate(OptimizerHelper optimizer, int epoch)
    {
        if (_scheduler is not null)
        {
            MoveScheduler(epoch, 0);
            return optimizer.ParamGroups.First().LearningRate;
        }

        var learningRate = _options.LearningRate;
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }

        return learningRate;
    }

    /// <summary>
    /// Puts the scheduler at the position of an epoch's batch (TorchSharp's <c>step(epoch)</c>: the closed-form
    /// learning rate of that position), so the learning rate depends on the position alone and a resumed run
    /// repeats an uninterrupted one.
    /// </summary>
    private void MoveScheduler(int epoch, int batch) =>
        _scheduler!.step((int?)_options.LearningRateScheduler!.Position(epoch, batch, _batchesPerEpoch));

    /// <summary>One optimizer step per training batch, in the order of (seed, epoch); one dispose scope per step.</summary>
    private (double LossMean, double LossLast, long Images, TimeSpan Time) Train(OptimizerHelper optimizer, int epoch)
    {
        var (lossSum, lastLoss, batchIndex, images) = (0.0, 0.0, 0, 0L);
        var perBatch = _options.LearningRateScheduler is { StepsPerBatch: true };
        var clipNorm = _options.GradientClipNorm;
        model.train();
        var clock = Stopwatch.StartNew();
        foreach (var batch in trainLoader.GetBatches(epoch, _options.Seed, device))
        {
            using var scope = NewDisposeScope();
            using (batch)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    TrainerLog.Cancelled(logger, epoch + 1, batchIndex + 1);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                if (perBatch && batchIndex > 0)
                {
                    MoveScheduler(epoch, batchIndex);
                }

                lastLoss = Trainer.Step(model, optimizer, batch.Images.to(device), batch.Labels.to(device), clipNorm, _options.LabelSmoothing);
                batchIndex++;
                images += batch.Count;
                if (!double.IsFinite(lastLoss))
                {
                    TrainerLog.Diverged(logger, epoch + 1, batchIndex, lastLoss);
                    throw new TrainingDivergedException(epoch + 1, batchIndex, lastLoss);
                }

                lossSum += lastLoss;
                progress?.Report(new TrainingProgress
                {
                    Phase = TrainingPhase.TrainingBatch,
                    Epoch = epoch + 1,
                    EpochCount = _options.Epochs,
                    Batch = batchIndex,
                    BatchCount = trainLoader.BatchCount,
                    Loss = lastLoss,
                });
            }
        }

        return (lossSum / batchIndex, lastLoss, images, clock.Elapsed);
    }

    /// <summary>One pass over the whole validation loader, or nothing without one.</summary>
    private (EvaluationResult? Result, TimeSpan Time) Validate(int epoch, double lossMean)
    {
        if (valLoader is null)
        {
            return (null, TimeSpan.Zero);
        }

        progress?.Report(new TrainingProgress
        {
            Phase = TrainingPhase.Validating,
            Epoch = epoch + 1,
            EpochCount = _options.Epochs,
            Batch = trainLoader.BatchCount,
            BatchCount = trainLoader.BatchCount,
            Loss = lossMean,
        });
        var clock = Stopwatch.StartNew();
        var result = _options.ValidationBatchSize is { } validationBatch
            ? Validator.Evaluate(model, valLoader, validationBatch, cancellationToken)
            : Validator.Evaluate(model, valLoader, cancellationToken);
        return (result, clock.Elapsed);
    }

    /// <summary>After an epoch: log, callbacks, checkpoint, then the progress report.</summary>
    private void EndEpoch(TrainingContext context, OptimizerHelper optimizer, CheckpointSettings settings, EpochResult result)
    {
        TrainerLog.EpochCompleted(logger, result.Epoch, result.TrainLossMean, result.TrainLossLast, result.ValidationLoss, result.ValidationAccuracy,
            result.ImagesPerSecond);
        foreach (var callback in _options.Callbacks)
        {
            callback.OnEpochEnd(context);
        }

        if (_options.CheckpointPath is { } path)
        {
            TrainingCheckpoint.Save(path, model, optimizer, _history, settings);
            TrainerLog.CheckpointWritten(logger, result.Epoch, path);
        }

        progress?.Report(new TrainingProgress
        {
            Phase = TrainingPhase.EpochCompleted,
            Epoch = result.Epoch,
            EpochCount = _options.Epochs,
            Batch = trainLoader.BatchCount,
            BatchCount = trainLoader.BatchCount,
            Loss = result.TrainLossMean,
            Result = result,
        });
        if (context.StopRequested)
        {
            TrainerLog.StopRequested(logger, result.Epoch);
        }
    }
}
