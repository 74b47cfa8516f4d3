using MnistCnn.Core.Training;
using Spectre.Console;

namespace MnistCnn.Samples.Train;

/// <summary>
/// A live bar per epoch on a terminal. The trainer reports on its own thread, synchronously, so this
/// implements <see cref="IProgress{T}"/> directly rather than through <see cref="Progress{T}"/>, which would
/// post reports to the thread pool and let them arrive out of order.
/// </summary>
internal sealed class ProgressBar(ProgressContext context) : IProgress<TrainingProgress>
{
    private ProgressTask? _epoch;

    public void Report(TrainingProgress value)
    {
        _epoch ??= context.AddTask($"Epoch {value.Epoch}/{value.EpochCount}", maxValue: value.BatchCount);
        switch (value.Phase)
        {
            case TrainingPhase.TrainingBatch:
                _epoch.Value = value.Batch;
                _epoch.Description = $"Epoch {value.Epoch}/{value.EpochCount} loss {value.Loss:F4}";
                break;
            case TrainingPhase.Validating:
                _epoch.Description = $"Epoch {value.Epoch}/{value.EpochCount} validating";
                break;
            case TrainingPhase.EpochCompleted when value.Result is { } result:
                // The finished bar keeps the case study's line, so the terminal shows one line per epoch.
                _epoch.Description = EpochLine.Format(result);
                _epoch.Value = _epoch.MaxValue;
                _epoch.StopTask();
                _epoch = null;
                break;
        }
    }
}
