using MnistCnn.Core.Training;

namespace MnistCnn.Core.GpuCheck;

/// <summary>
/// Cancels a run once the given epoch has completed, as Ctrl+C would: the trainer has written that epoch's
/// checkpoint before it reports the epoch, and checks the token before the next batch.
/// </summary>
internal sealed class StopAfterEpoch(int epoch, CancellationTokenSource stop) : IProgress<TrainingProgress>
{
    private readonly EpochLines _lines = new();

    public void Report(TrainingProgress value)
    {
        _lines.Report(value);
        if (value.Phase == TrainingPhase.EpochCompleted && value.Epoch == epoch)
        {
            stop.Cancel();
        }
    }
}
