using MnistCnn.Core.Models;

namespace MnistCnn.Core.Training;

/// <summary>
/// Keeps the weights of the epoch with the highest validation accuracy: in memory, and in
/// <see cref="Path"/> when set (written atomically each time the best improves). When the run ends it can
/// load them back into the model. Needs a validation loader.
/// </summary>
/// <remarks>
/// Because the file is only replaced by a better epoch, it survives a run that later diverges or is
/// cancelled; load it with <see cref="ModelWeights.Load"/>.
/// </remarks>
public sealed class BestModelCheckpoint : TrainingCallback
{
    private byte[]? _bestWeights;

    /// <summary>Initializes the callback.</summary>
    /// <param name="path">The weights file to keep the best epoch in, or <see langword="null"/> to keep it in memory only.</param>
    /// <param name="restoreBestAtEnd">Whether the best weights are loaded into the model when the run ends. Default: <see langword="true"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or blank (it would only fail after the first epoch).</exception>
    public BestModelCheckpoint(string? path = null, bool restoreBestAtEnd = true)
    {
        if (path is not null && string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException("The path must name a file, or be null to keep the best weights in memory only.", nameof(path));
        }

        Path = path;
        RestoreBestAtEnd = restoreBestAtEnd;
    }

    /// <summary>Gets the weights file the best epoch is kept in, or <see langword="null"/>.</summary>
    public string? Path { get; }

    /// <summary>Gets whether the best weights are loaded into the model when the run ends.</summary>
    public bool RestoreBestAtEnd { get; }

    /// <summary>Gets the best validation accuracy seen, or <see langword="null"/> before the first epoch.</summary>
    public double? BestAccuracy { get; private set; }

    /// <summary>Gets the epoch (from 1) of the best validation accuracy, or <see langword="null"/>.</summary>
    public int? BestEpoch { get; private set; }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The run has no validation loader.</exception>
    public override void OnEpochEnd(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var epoch = context.LastEpoch!;
        var accuracy = epoch.ValidationAccuracy
            ?? throw new InvalidOperationException("BestModelCheckpoint needs validation accuracy: pass a validation loader to Fit.");
        if (BestAccuracy is { } best && accuracy <= best)
        {
            return;
        }

        BestAccuracy = accuracy;
        BestEpoch = epoch.Epoch;
        _bestWeights = SafeTensorsFormat.Write(context.Model.state_dict());
        if (Path is not null)
        {
            AtomicFile.Write(Path, _bestWeights);
        }
    }

    /// <inheritdoc/>
    public override void OnFitEnd(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (RestoreBestAtEnd && _bestWeights is not null)
        {
            ModelWeights.LoadBytes(context.Model, _bestWeights, "best weights in memory");
        }
    }
}
