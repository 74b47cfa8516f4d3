namespace MnistCnn.Samples.Train;

/// <summary>The network and training recipe a run starts from; command-line options override its settings.</summary>
internal enum TrainingPreset
{
    /// <summary>The PyTorch case study: ConvNet, Adam at 0.01, batch 64, 5 epochs, no shuffle, no augmentation.</summary>
    Faithful,

    /// <summary>
    /// The library's most accurate recipe (<c>TrainingRecipe.Best</c>): LeNet (LeNet-5-like), shuffled batches of 64
    /// with random affine augmentation, Adam under a one-cycle schedule peaking at 0.002, label smoothing 0.1, 11 epochs.
    /// </summary>
    Best,

    /// <summary>The library's speedrun recipe (<c>TrainingRecipe.Speedrun</c>): the quickest way past 99% on MNIST.</summary>
    Speedrun,
}
