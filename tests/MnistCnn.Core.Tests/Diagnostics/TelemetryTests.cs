using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MnistCnn.Core.Data;
using MnistCnn.Core.Diagnostics;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.Tests.Diagnostics;

[Collection(TorchGlobalState.Name)]
public sealed class TelemetryTests
{
    [Fact]
    public void Fit_WithAMeterListener_RecordsEveryEpochUnderTheDocumentedNames()
    {
        using var train = LearnableDigits.Make(48, seed: 1);
        using var test = LearnableDigits.Make(20, seed: 2);
        using var model = new ConvNet(seed: 0);
        var measurements = new ConcurrentQueue<(string Instrument, double Value, string? Device)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                // Training instruments only: other test classes may be predicting at the same time.
                if (instrument.Meter.Name == MnistCnnTelemetry.MeterName && instrument.Name.StartsWith("mnistcnn.training.", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, DeviceOf(tags))));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, DeviceOf(tags))));
        listener.Start();

        var history = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 3 })
            .Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16 }), new DigitDataLoader(test));
        listener.Dispose();

        double[] Values(string name) => measurements.Where(m => m.Instrument == name).Select(m => m.Value).ToArray();
        Values(MnistCnnTelemetry.EpochsCounter).Should().Equal(1, 1, 1);
        Values(MnistCnnTelemetry.ImagesCounter).Should().Equal(48, 48, 48);
        Values(MnistCnnTelemetry.LossGauge).Should().Equal(history.Epochs.Select(e => e.TrainLossMean));
        Values(MnistCnnTelemetry.ValidationLossGauge).Should().Equal(history.Epochs.Select(e => e.ValidationLoss!.Value));
        Values(MnistCnnTelemetry.ValidationAccuracyGauge).Should().Equal(history.Epochs.Select(e => e.ValidationAccuracy!.Value));
        Values(MnistCnnTelemetry.ThroughputGauge).Should().Equal(history.Epochs.Select(e => e.ImagesPerSecond));
        Values(MnistCnnTelemetry.EpochDurationHistogram).Should().HaveCount(3).And.OnlyContain(seconds => seconds > 0);
        measurements.Should().OnlyContain(m => m.Device == "cpu");
    }

    [Fact]
    public void Predict_WithAMeterAndActivityListener_CountsImagesAndTimesEachCall()
    {
        var classifier = DigitClassifier.Pretrained();
        var pixels = new byte[3 * DigitImage.PixelCount];
        pixels.AsSpan(100, 300).Fill(255);
        var picture = new byte[40 * 30];
        picture.AsSpan(400, 200).Fill(200);

        // Other test classes may predict at the same time; the callbacks run on the recording thread, so only this
        // thread's measurements and activities count.
        var thread = Environment.CurrentManagedThreadId;
        var measurements = new ConcurrentQueue<(string Instrument, double Value, object? Call)>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == MnistCnnTelemetry.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (Environment.CurrentManagedThreadId == thread)
            {
                measurements.Enqueue((instrument.Name, value, TagOf(tags, MnistCnnTelemetry.CallTag)));
            }
        }

        meterListener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        meterListener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        meterListener.Start();
        var activities = new ConcurrentQueue<Activity>();
        using var activityListener = ListenToActivities(a =>
        {
            if (Environment.CurrentManagedThreadId == thread)
            {
                activities.Enqueue(a);
            }
        });

        classifier.Predict(pixels.AsSpan(0, DigitImage.PixelCount));
        classifier.PredictBatch(pixels, 3, maxDegreeOfParallelism: 1);
        classifier.PredictImage(picture, 40, 30);
        meterListener.Dispose();

        measurements.Where(m => m.Instrument == MnistCnnTelemetry.PredictionsCounter).Select(m => (m.Value, m.Call))
            .Should().Equal((1d, "predict"), (3d, "predict_batch"), (1d, "predict_image"));
        measurements.Where(m => m.Instrument == MnistCnnTelemetry.PredictDurationHistogram).Select(m => m.Call)
            .Should().Equal("predict", "predict_batch", "predict_image");
        measurements.Where(m => m.Instrument == MnistCnnTelemetry.PredictDurationHistogram).Should().OnlyContain(m => m.Value > 0);
        activities.Select(a => (a.OperationName, a.GetTagItem(MnistCnnTelemetry.CallTag)))
            .Should().Equal(
                (MnistCnnTelemetry.PredictActivity, "predict"),
                (MnistCnnTelemetry.PredictActivity, "predict_batch"),
                (MnistCnnTelemetry.PredictActivity, "predict_image"));
    }

    [Fact]
    public void Fit_WithAnActivityListener_TracesTheFitAndEachEpochBelowIt()
    {
        using var train = LearnableDigits.Make(32, seed: 1);
        using var model = new ConvNet(seed: 0);
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = ListenToActivities(stopped.Enqueue);

        new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 2 }).Fit(model, new DigitDataLoader(train));

        var fit = stopped.Should().ContainSingle(a => a.OperationName == MnistCnnTelemetry.FitActivity).Subject;
        fit.GetTagItem(MnistCnnTelemetry.DeviceTag).Should().Be("cpu");
        var epochs = stopped.Where(a => a.OperationName == MnistCnnTelemetry.EpochActivity).ToArray();
        epochs.Select(a => a.GetTagItem(MnistCnnTelemetry.EpochTag)).Should().Equal(1, 2);
        epochs.Should().OnlyContain(a => a.ParentSpanId == fit.SpanId && a.TraceId == fit.TraceId);
    }

    [Fact]
    public void Fit_RunFails_MarksTheFitActivityAsFailed()
    {
        using var train = LearnableDigits.Make(32, seed: 1);
        using var model = new ConvNet(seed: 0);
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = ListenToActivities(stopped.Enqueue);
        var trainer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 2, LearningRateScheduler = Diverging });

        // Two batches an epoch: epoch 2's first step at 1e38 makes its second batch's loss overflow.
        var act = () => trainer.Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 16 }));

        act.Should().Throw<TrainingDivergedException>();
        var fit = stopped.Should().ContainSingle(a => a.OperationName == MnistCnnTelemetry.FitActivity).Subject;
        fit.Status.Should().Be(ActivityStatusCode.Error);
        fit.StatusDescription.Should().Contain("epoch 2");
    }

    // 0.01 in epoch 1, 1e38 from epoch 2: Adam's first step at that rate makes the loss overflow.
    private static readonly LearningRateScheduler Diverging = LearningRateScheduler.Step(stepSize: 1, gamma: 1e40);

    private static string? DeviceOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == MnistCnnTelemetry.DeviceTag)
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    private static object? TagOf(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value;
            }
        }

        return null;
    }

    private static ActivityListener ListenToActivities(Action<Activity> stopped)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MnistCnnTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
