using MnistCnn.Core.Training;

namespace MnistCnn.Samples.Train;

/// <summary>Progress for redirected output (logs, CI): one line per epoch, no terminal control codes.</summary>
internal sealed class PlainProgress : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value)
    {
        if (value is { Phase: TrainingPhase.EpochCompleted, Result: { } result })
        {
            Console.WriteLine(EpochLine.Format(result));
        }
    }
}
