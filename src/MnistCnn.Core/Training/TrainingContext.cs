using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>The state of a run, as callbacks see it.</summary>
public sealed class TrainingContext
{
    private readonly List<EpochResult> _history;

    internal TrainingContext(nn.Module<Tensor, Tensor> model, TrainerOptions options, List<EpochResult> history)
    {
        Model = model;
        Options = options;
        _history = history;
    }

    /// <summary>Gets the model being trained.</summary>
    public nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>Gets the options of the run.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Gets the completed epochs so far.</summary>
    public IReadOnlyList<EpochResult> History => _history;

    /// <summary>Gets the last completed epoch, or <see langword="null"/> before the first.</summary>
    public EpochResult? LastEpoch => _history.Count > 0 ? _history[^1] : null;

    /// <summary>Gets whether a callback asked the run to stop.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Asks the run to stop after the current epoch.</summary>
    public void RequestStop() => StopRequested = true;
}
