using System.Globalization;
using MnistCnn.Core.Training;

namespace MnistCnn.Samples.Train;

/// <summary>The case study's per-epoch line: mean training loss and test accuracy in percent.</summary>
internal static class EpochLine
{
    public static string Format(EpochResult result) => string.Create(
        CultureInfo.InvariantCulture,
        $"Epoch: {result.Epoch} Loss: {result.TrainLossMean:F6} Accuracy: {result.ValidationAccuracy:F2} " +
        $"(train {result.TrainDuration.TotalSeconds:F1} s, {result.ImagesPerSecond:F0} images/s)");
}
