namespace MnistCnn.Core.Training;

/// <summary>The optimizer a <see cref="Trainer"/> updates the weights with (<see cref="TrainerOptions.Optimizer"/>).</summary>
/// <remarks>
/// Each is TorchSharp's implementation of PyTorch's optimizer of that name, with the hyperparameters of
/// <see cref="TrainerOptions"/> that apply to it: <see cref="TrainerOptions.LearningRate"/> and
/// <see cref="TrainerOptions.WeightDecay"/> to all three; <see cref="TrainerOptions.Beta1"/>,
/// <see cref="TrainerOptions.Beta2"/> and <see cref="TrainerOptions.Epsilon"/> to <see cref="Adam"/> and
/// <see cref="AdamW"/>; <see cref="TrainerOptions.Momentum"/> and <see cref="TrainerOptions.Nesterov"/> to
/// <see cref="Sgd"/>.
/// </remarks>
public enum TrainingOptimizer
{
    /// <summary>
    /// Adam (<c>torch.optim.Adam</c>), the default and the case study's; <see cref="TrainerOptions.WeightDecay"/> is
    /// L2 regularisation added to the gradient. On the CPU in float32 without weight decay its update runs as one
    /// fused managed pass, with the same results.
    /// </summary>
    Adam,

    /// <summary>
    /// AdamW (<c>torch.optim.AdamW</c>): Adam with decoupled weight decay, the weights shrinking by
    /// <c>lr × WeightDecay</c> each step before the Adam update. PyTorch's default decay for AdamW is 0.01; here
    /// <see cref="TrainerOptions.WeightDecay"/> stays 0 unless set.
    /// </summary>
    AdamW,

    /// <summary>
    /// Stochastic gradient descent (<c>torch.optim.SGD</c>) with <see cref="TrainerOptions.Momentum"/>, optionally
    /// Nesterov's (<see cref="TrainerOptions.Nesterov"/>), and L2 <see cref="TrainerOptions.WeightDecay"/> added to
    /// the gradient. No dampening.
    /// </summary>
    Sgd,
}
