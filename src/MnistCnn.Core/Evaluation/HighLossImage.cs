namespace MnistCnn.Core.Evaluation;

/// <summary>One of the images a model is most wrong about (<see cref="MistakeReport.TopLosses"/>).</summary>
public sealed record HighLossImage
{
    /// <summary>Gets the image's index in the data set.</summary>
    public required int Index { get; init; }

    /// <summary>Gets the image's label (its true class).</summary>
    public required int Label { get; init; }

    /// <summary>Gets the class the model predicts (the largest logit).</summary>
    public required int Predicted { get; init; }

    /// <summary>Gets the model's probability for <see cref="Predicted"/> (softmax of the logits), from 0 to 1.</summary>
    public required double Confidence { get; init; }

    /// <summary>Gets the model's probability for <see cref="Label"/>, from 0 to 1.</summary>
    public required double LabelProbability { get; init; }

    /// <summary>Gets the image's cross-entropy loss, <c>-ln(LabelProbability)</c> computed from the logits.</summary>
    public required double Loss { get; init; }

    /// <summary>Gets the image's height in pixels.</summary>
    public required int Height { get; init; }

    /// <summary>Gets the image's width in pixels.</summary>
    public required int Width { get; init; }

    /// <summary>Gets the image as the model saw it: <see cref="Height"/> rows of <see cref="Width"/> floats (scaled,
    /// and normalised if the data set normalises).</summary>
    public required IReadOnlyList<float> Pixels { get; init; }
}
