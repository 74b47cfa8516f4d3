using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace MnistCnn.Core.Diagnostics;

/// <summary>
/// The library's one meter and activity source, and the training and inference instruments on it.
/// </summary>
internal static class Telemetry
{
    private static readonly string? Version =
        typeof(Telemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

    public static readonly Meter Meter = new(MnistCnnTelemetry.MeterName, Version);

    public static readonly ActivitySource Source = new(MnistCnnTelemetry.ActivitySourceName, Version);

    private static readonly Counter<long> Epochs =
        Meter.CreateCounter<long>(MnistCnnTelemetry.EpochsCounter, "{epoch}", "Training epochs completed.");

    private static readonly Counter<long> Images =
        Meter.CreateCounter<long>(MnistCnnTelemetry.ImagesCounter, "{image}", "Images trained on.");

    private static readonly Gauge<double> Loss =
        Meter.CreateGauge<double>(MnistCnnTelemetry.LossGauge, null, "Mean training loss of the last completed epoch.");

    private static readonly Gauge<double> ValidationLoss =
        Meter.CreateGauge<double>(MnistCnnTelemetry.ValidationLossGauge, null, "Mean validation loss of the last completed epoch.");

    private static readonly Gauge<double> ValidationAccuracy =
        Meter.CreateGauge<double>(MnistCnnTelemetry.ValidationAccuracyGauge, "%", "Validation accuracy of the last completed epoch.");

    private static readonly Gauge<double> Throughput =
        Meter.CreateGauge<double>(MnistCnnTelemetry.ThroughputGauge, "{image}/s", "Training throughput of the last completed epoch.");

    private static readonly Histogram<double> EpochDuration =
        Meter.CreateHistogram<double>(MnistCnnTelemetry.EpochDurationHistogram, "s", "Duration of a training epoch, validation included.");

    private static readonly Counter<long> Predictions =
        Meter.CreateCounter<long>(MnistCnnTelemetry.PredictionsCounter, "{image}", "Images classified.");

    private static readonly Histogram<double> PredictDuration =
        Meter.CreateHistogram<double>(MnistCnnTelemetry.PredictDurationHistogram, "s", "Duration of a prediction call (one image, one picture or one batch).");

    /// <summary>Starts the activity of a prediction call (null when nobody listens) and returns the start time.</summary>
    public static (Activity? Activity, long Started) PredictStarting(string call)
    {
        var activity = Source.StartActivity(MnistCnnTelemetry.PredictActivity);
        activity?.SetTag(MnistCnnTelemetry.CallTag, call);
        return (activity, Stopwatch.GetTimestamp());
    }

    /// <summary>Records a finished prediction call of <paramref name="images"/> images and ends its activity.</summary>
    public static void PredictCompleted((Activity? Activity, long Started) call, string name, int images)
    {
        var tag = new KeyValuePair<string, object?>(MnistCnnTelemetry.CallTag, name);
        Predictions.Add(images, tag);
        PredictDuration.Record(Stopwatch.GetElapsedTime(call.Started).TotalSeconds, tag);
        call.Activity?.Dispose();
    }

    /// <summary>Records a completed epoch on every training instrument.</summary>
    public static void EpochCompleted(
        long images, string device, double trainLoss, double imagesPerSecond, TimeSpan duration, double? validationLoss, double? validationAccuracy)
    {
        var tag = new KeyValuePair<string, object?>(MnistCnnTelemetry.DeviceTag, device);
        Epochs.Add(1, tag);
        Images.Add(images, tag);
        Loss.Record(trainLoss, tag);
        Throughput.Record(imagesPerSecond, tag);
        EpochDuration.Record(duration.TotalSeconds, tag);
        if (validationLoss is { } loss)
        {
            ValidationLoss.Record(loss, tag);
        }

        if (validationAccuracy is { } accuracy)
        {
            ValidationAccuracy.Record(accuracy, tag);
        }
    }

    /// <summary>Marks an activity as failed with the exception that ended it.</summary>
    public static void Failed(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.AddException(exception);
    }
}
