using Microsoft.Extensions.Logging;

namespace MnistCnn.Core.Training;

/// <summary>The trainer's log messages; event ids are stable.</summary>
internal static partial class TrainerLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Training on {Device}: {Reason}")]
    public static partial void DeviceChosen(ILogger logger, TorchSharp.torch.Device device, string reason);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Starting epoch {Epoch}/{EpochCount} at learning rate {LearningRate}")]
    public static partial void EpochStarted(ILogger logger, int epoch, int epochCount, double learningRate);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information,
        Message = "Epoch {Epoch}: loss {TrainLoss:F4} (last {LastLoss:F4}), validation loss {ValidationLoss:F4}, accuracy {Accuracy:F2}%, " +
            "{ImagesPerSecond:F0} images/s")]
    public static partial void EpochCompleted(ILogger logger, int epoch, double trainLoss, double lastLoss, double? validationLoss, double? accuracy,
        double imagesPerSecond);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Stopping after epoch {Epoch}: a callback requested it")]
    public static partial void StopRequested(ILogger logger, int epoch);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Checkpoint of epoch {Epoch} written to {Path}")]
    public static partial void CheckpointWritten(ILogger logger, int epoch, string path);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Resuming from {Path} after epoch {Epoch}")]
    public static partial void Resuming(ILogger logger, string path, int epoch);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning,
        Message = "Resuming {Path} with other settings than it was written with; the run will not repeat the original. Checkpoint: {Saved}; now: {Current}")]
    public static partial void SettingsChanged(ILogger logger, string path, string saved, string current);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Training was cancelled in epoch {Epoch} at batch {Batch}")]
    public static partial void Cancelled(ILogger logger, int epoch, int batch);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Error, Message = "Training diverged in epoch {Epoch} at batch {Batch}: loss {Loss}")]
    public static partial void Diverged(ILogger logger, int epoch, int batch, double loss);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Information, Message = "Adam runs TorchSharp's own update instead of the fused one: {Reason}")]
    public static partial void FusedAdamNotApplicable(ILogger logger, string reason);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning,
        Message = "Adam's fused update is off: TorchSharp's optimizer state is not what this MnistCnn.Core was built against ({Reason}); TorchSharp's own " +
            "update runs instead, with the same results, more slowly")]
    public static partial void FusedAdamStateUnexpected(ILogger logger, string reason);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning,
        Message = "{Callback} selects the model on the test split: its accuracy is then no longer an unbiased estimate. Hold out part of the training set " +
            "with DigitDataset.Split and validate on that")]
    public static partial void SelectingOnTestSet(ILogger logger, string callback);
}
