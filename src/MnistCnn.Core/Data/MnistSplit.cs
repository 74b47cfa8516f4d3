namespace MnistCnn.Core.Data;

/// <summary>A split of MNIST or of a dataset in MNIST's format.</summary>
public enum MnistSplit
{
    /// <summary>The training split: <c>train-images-idx3-ubyte</c> and <c>train-labels-idx1-ubyte</c> (60,000 images for MNIST).</summary>
    Train = 0,

    /// <summary>The test split: <c>t10k-images-idx3-ubyte</c> and <c>t10k-labels-idx1-ubyte</c> (10,000 images for MNIST).</summary>
    Test = 1,
}
