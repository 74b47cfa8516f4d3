namespace MnistCnn.Core.Diagnostics;

/// <summary>
/// The names under which the library publishes metrics (<see cref="System.Diagnostics.Metrics.Meter"/>) and
/// traces (<see cref="System.Diagnostics.ActivitySource"/>): listen to them with OpenTelemetry
/// (<c>AddMeter(MnistCnnTelemetry.MeterName)</c>, <c>AddSource(MnistCnnTelemetry.ActivitySourceName)</c>),
/// <c>dotnet-counters monitor --counters MnistCnn.Core</c> or a <see cref="System.Diagnostics.Metrics.MeterListener"/>.
/// </summary>
/// <remarks>
/// Every measurement carries the tag <see cref="DeviceTag"/> (<c>cpu</c>, <c>cuda:0</c>). Nothing is recorded
/// unless something listens. See docs/hosting.md.
/// </remarks>
public static class MnistCnnTelemetry
{
    /// <summary>The name of the library's meter and activity source: <c>MnistCnn.Core</c>.</summary>
    public const string MeterName = "MnistCnn.Core";

    /// <summary>The name of the library's activity source: <c>MnistCnn.Core</c>.</summary>
    public const string ActivitySourceName = "MnistCnn.Core";

    /// <summary>The activity of a whole training run (<c>Fit</c>, <c>FitAsync</c>, <c>Resume</c>): <c>mnistcnn.fit</c>.</summary>
    public const string FitActivity = "mnistcnn.fit";

    /// <summary>The activity of one training epoch, validation included, a child of <see cref="FitActivity"/>: <c>mnistcnn.epoch</c>.</summary>
    public const string EpochActivity = "mnistcnn.epoch";

    /// <summary>Counter of completed training epochs (unit <c>{epoch}</c>): <c>mnistcnn.training.epochs</c>.</summary>
    public const string EpochsCounter = "mnistcnn.training.epochs";

    /// <summary>Counter of images trained on (unit <c>{image}</c>), added once per epoch: <c>mnistcnn.training.images</c>.</summary>
    public const string ImagesCounter = "mnistcnn.training.images";

    /// <summary>Gauge of the last completed epoch's mean training loss: <c>mnistcnn.training.loss</c>.</summary>
    public const string LossGauge = "mnistcnn.training.loss";

    /// <summary>Gauge of the last completed epoch's mean validation loss (runs with validation only): <c>mnistcnn.training.validation.loss</c>.</summary>
    public const string ValidationLossGauge = "mnistcnn.training.validation.loss";

    /// <summary>Gauge of the last completed epoch's validation accuracy in percent (unit <c>%</c>): <c>mnistcnn.training.validation.accuracy</c>.</summary>
    public const string ValidationAccuracyGauge = "mnistcnn.training.validation.accuracy";

    /// <summary>Gauge of the last completed epoch's training throughput (unit <c>{image}/s</c>): <c>mnistcnn.training.throughput</c>.</summary>
    public const string ThroughputGauge = "mnistcnn.training.throughput";

    /// <summary>Histogram of epoch durations, validation included (unit <c>s</c>): <c>mnistcnn.training.epoch.duration</c>.</summary>
    public const string EpochDurationHistogram = "mnistcnn.training.epoch.duration";

    /// <summary>The tag naming the torch device of a measurement or activity: <c>mnistcnn.device</c>.</summary>
    public const string DeviceTag = "mnistcnn.device";

    /// <summary>The tag giving an epoch's number (from 1) on <see cref="EpochActivity"/>: <c>mnistcnn.epoch</c>.</summary>
    public const string EpochTag = "mnistcnn.epoch";

    /// <summary>The activity of one <c>DigitClassifier</c> prediction call (<c>Predict</c>, <c>PredictImage</c> or
    /// <c>PredictBatch</c>): <c>mnistcnn.predict</c>.</summary>
    public const string PredictActivity = "mnistcnn.predict";

    /// <summary>Counter of images classified by <c>DigitClassifier</c> (unit <c>{image}</c>): <c>mnistcnn.inference.predictions</c>.</summary>
    public const string PredictionsCounter = "mnistcnn.inference.predictions";

    /// <summary>Histogram of the duration of one prediction call, a whole batch being one call (unit <c>s</c>): <c>mnistcnn.inference.duration</c>.</summary>
    public const string PredictDurationHistogram = "mnistcnn.inference.duration";

    /// <summary>The tag naming the prediction call (<c>predict</c>, <c>predict_image</c> or <c>predict_batch</c>): <c>mnistcnn.call</c>.</summary>
    public const string CallTag = "mnistcnn.call";
}
