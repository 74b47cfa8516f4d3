using System.Globalization;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.GpuCheck;

/// <summary>Prints the case study's line after every epoch, with its training time (synchronously, in order).</summary>
internal sealed class EpochLines : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value)
    {
        if (value is { Phase: TrainingPhase.EpochCompleted, Result: { } result })
        {
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"Epoch: {result.Epoch} Loss: {result.TrainLossMean:F6} Accuracy: {result.ValidationAccuracy:F2} (train {result.TrainDuration.TotalSeconds:F2} s, validate {result.ValidationDuration.TotalSeconds:F2} s)"));
        }
    }
}
