namespace MnistCnn.Core.Inference;

/// <summary>The models shipped in this package, for <see cref="DigitClassifier.Pretrained(PretrainedModel)"/>.</summary>
public enum PretrainedModel
{
    /// <summary>
    /// The most accurate model: <c>LeNet</c> trained with the best preset (<c>TrainingRecipe.Best</c>: augmentation, one-cycle Adam,
    /// label smoothing, 11 epochs).
    /// </summary>
    Best,

    /// <summary>The case study's network (<c>ConvNet</c>) as the case study trains it (5 epochs, Adam 0.01, no shuffling).</summary>
    CaseStudy,
}
