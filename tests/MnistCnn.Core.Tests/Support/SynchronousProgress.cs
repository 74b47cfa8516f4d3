using MnistCnn.Core.Training;

namespace MnistCnn.Core.Tests.Support;

/// <summary>Reports on the caller's thread, unlike <see cref="Progress{T}"/>, so tests see every report in order.</summary>
internal sealed class SynchronousProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}

/// <summary>Ready-made <see cref="SynchronousProgress{T}"/> for training.</summary>
internal static class SynchronousProgress
{
    /// <summary>Calls <paramref name="action"/> with the epoch number at every <see cref="TrainingPhase.EpochCompleted"/> report.</summary>
    public static SynchronousProgress<TrainingProgress> OnEpochCompleted(Action<int> action) =>
        new(p =>
        {
            if (p.Phase == TrainingPhase.EpochCompleted)
            {
                action(p.Epoch);
            }
        });
}
