namespace MnistCnn.Samples.Train;

/// <summary>The network and training recipe a run starts from; command-line options override its settings.</summary>
internal enum TrainingPreset
{
    /// <summary>The PyTorch case study: ConvNet, Adam at 0.01, batch 64, 5 epochs, no shuffle, no augmentation.</summary>
    Faithful,

    /// <summary>
    /// The strongest recipe: LeNet (LeNet-5-like), shuffled batches of 64 with random affine augmentation, Adam at
    /// 0.001 on a cosine schedule, 15 epochs.
    /// </summary>
    Best,

    /// <summary>The library's speedrun recipe (<c>TrainingRecipe.Speedrun</c>): the quickest way past 99% on MNIST.</summary>
    Speedrun,
}
