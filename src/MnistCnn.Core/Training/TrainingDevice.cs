namespace MnistCnn.Core.Training;

/// <summary>Where a <see cref="Trainer"/> runs the model.</summary>
public enum TrainingDevice
{
    /// <summary>CUDA when TorchSharp reports a usable CUDA backend, otherwise the CPU.</summary>
    Auto,

    /// <summary>The CPU.</summary>
    Cpu,

    /// <summary>The first CUDA device; fails when no CUDA backend is available.</summary>
    Cuda,
}
