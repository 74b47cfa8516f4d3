using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// Finds a learning rate to train with, as fastai's <c>lr_find</c> and Lightning's tuner do: a short run whose
/// learning rate grows exponentially every step, from very small to too large, recording the loss; the rate where
/// the loss falls fastest is a good one to train at. The model is given back as it was.
/// </summary>
/// <remarks>
/// <para>
/// The sweep trains with the optimizer, device, thread count, seed (the shuffled order of the batches) and gradient
/// clipping of the <see cref="TrainerOptions"/> it is given, exactly as <see cref="Trainer"/> would, except for the
/// learning rate. Its optimizer is its own, created for the sweep and disposed afterwards, so no optimizer state
/// carries over into a later run.
/// </para>
/// <para>
/// Afterwards, whether the sweep finished, diverged, failed or was cancelled, the model's parameters and buffers
/// hold their values from before it, bit for bit, on the device they were on, with no gradients, in the training
/// or evaluation mode it had; torch's thread count is what it was.
/// </para>
/// </remarks>
public sealed class LearningRateFinder
{
    /// <summary>Initializes a finder.</summary>
    /// <param name="trainerOptions">The options of the training run the rate is for; <see langword="null"/> for the
    /// case study's defaults. Their learning rate and scheduler are not used.</param>
    /// <param name="options">The sweep; <see langword="null"/> for fastai's defaults.</param>
    public LearningRateFinder(TrainerOptions? trainerOptions = null, LearningRateFinderOptions? options = null)
    {
        TrainerOptions = trainerOptions ?? new TrainerOptions();
        TrainerOptions.CheckCombinations(nameof(trainerOptions));
        Options = options ?? new LearningRateFinderOptions();
        if (Options.EndLearningRate <= Options.StartLearningRate)
        {
            throw new ArgumentException(
                $"The sweep's end learning rate ({Options.EndLearningRate}) must exceed its start ({Options.StartLearningRate}).", nameof(options));
        }
    }

    /// <summary>Gets the options of the training run the rate is for.</summary>
    public TrainerOptions TrainerOptions { get; }

    /// <summary>Gets the sweep's options.</summary>
    public LearningRateFinderOptions Options { get; }

    /// <summary>
    /// Runs the sweep on <paramref name="model"/> with batches of <paramref name="trainLoader"/> (as many epochs of
    /// them as the steps need), then restores the model.
    /// </summary>
    /// <param name="model">A classifier returning logits <c>[N, ClassCount]</c>.</param>
    /// <param name="trainLoader">The training batches.</param>
    /// <param name="progress">Receives every step; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <returns>The loss curve and the suggested learning rate.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="trainLoader"/> is null.</exception>
    /// <exception cref="ArgumentException">The model has no parameters, cannot take the images, or its output width differs from the class count.</exception>
    /// <exception cref="InvalidOperationException"><see cref="TrainingDevice.Cuda"/> was asked for but CUDA is not available.</exception>
    /// <exception cref="TrainingDivergedException">The loss of the first step, at the smallest rate, was NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested (the model is restored first).</exception>
    public LearningRateFinderResult Find(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        IProgress<LearningRatePoint>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainLoader);
        TorchRuntime.EnsureAvailable();
        if (!model.parameters().Any())
        {
            throw new ArgumentException("The model has no parameters to train.", nameof(model));
        }

        ClassifierCheck.EnsureFits(model, trainLoader.Dataset);
        using var threads = TorchThreads.Use(TrainerOptions.Threads, cancellationToken);
        var (device, _) = Trainer.ResolveDevice(TrainerOptions.Device);
        var originalDevice = ClassifierCheck.DeviceOf(model);
        var wasTraining = model.training;
        var saved = model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone().DetachFromDisposeScope());
        try
        {
            model.to(device);
            var points = Sweep(model, trainLoader, device, progress, cancellationToken, out var diverged);
            var (suggested, minimum) = Suggest(points);
            return new LearningRateFinderResult { Points = points, SuggestedLearningRate = suggested, MinimumLossLearningRate = minimum, Diverged = diverged };
        }
        finally
        {
            Restore(model, saved, originalDevice, wasTraining);
        }
    }

    /// <summary>The suggested rate and the rate at the lowest smoothed loss, as <see cref="LearningRateFinderResult"/> describes them.</summary>
    internal static (double Suggested, double AtMinimum) Suggest(IReadOnlyList<LearningRatePoint> points)
    {
        if (points.Count == 0)
        {
            throw new ArgumentException("The sweep recorded no step.", nameof(points));
        }

        var lowest = 0;
        for (var i = 1; i < points.Count; i++)
        {
            lowest = points[i].SmoothedLoss < points[lowest].SmoothedLoss ? i : lowest;
        }

        var atMinimum = points[lowest].LearningRate;
        var skip = points.Count / 10;
        if (lowest - skip < 2)
        {
            return (atMinimum / 10, atMinimum);
        }

        var steepest = skip;
        var steepestSlope = double.PositiveInfinity;
        for (var i = skip; i <= lowest; i++)
        {
            // Central differences inside the curve, one-sided at its ends (numpy's gradient).
            var (before, after) = (Math.Max(i - 1, 0), Math.Min(i + 1, points.Count - 1));
            var slope = (points[after].SmoothedLoss - points[before].SmoothedLoss) /
                (Math.Log(points[after].LearningRate) - Math.Log(points[before].LearningRate));
            if (slope < steepestSlope)
            {
                (steepest, steepestSlope) = (i, slope);
            }
        }

        return (points[steepest].LearningRate, atMinimum);
    }

    private static void Restore(nn.Module<Tensor, Tensor> model, Dictionary<string, Tensor> saved, Device device, bool training)
    {
        try
        {
            model.to(device);
            model.zero_grad();
            using var noGrad = no_grad();
            foreach (var (name, tensor) in model.state_dict())
            {
                tensor.copy_(saved[name]);
            }

            model.train(training);
        }
        finally
        {
            foreach (var tensor in saved.Values)
            {
                tensor.Dispose();
            }
        }
    }

    private List<LearningRatePoint> Sweep(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        Device device,
        IProgress<LearningRatePoint>? progress,
        CancellationToken cancellationToken,
        out bool diverged)
    {
        var (steps, start, end, beta) = (Options.Steps, Options.StartLearningRate, Options.EndLearningRate, Options.Smoothing);
        var points = new List<LearningRatePoint>(steps);
        var (average, lowest) = (0.0, double.PositiveInfinity);
        diverged = false;
        model.train();
        using var optimizer = new Trainer(TrainerOptions).CreateOptimizer(model);
        for (var epoch = 0; points.Count < steps && !diverged; epoch++)
        {
            foreach (var batch in trainLoader.GetBatches(epoch, TrainerOptions.Seed, device))
            {
                using var scope = NewDisposeScope();
                using (batch)
                {
                    if (points.Count == steps || diverged)
                    {
                        continue; // drain the enumerator so its batches are disposed
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    var learningRate = start * Math.Pow(end / start, (double)points.Count / (steps - 1));
                    foreach (var group in optimizer.ParamGroups)
                    {
                        group.LearningRate = learningRate;
                    }

                    var loss = Trainer.Step(model, optimizer, batch.Images.to(device), batch.Labels.to(device), TrainerOptions.GradientClipNorm,
                        TrainerOptions.LabelSmoothing);
                    if (!double.IsFinite(loss))
                    {
                        // At the sweep's first, smallest rate this is no learning-rate question: the data or model is broken.
                        diverged = points.Count > 0 ? true : throw new TrainingDivergedException(1, 1, loss);
                        continue;
                    }

                    average = (beta * average) + ((1 - beta) * loss);
                    var smoothed = average / (1 - Math.Pow(beta, points.Count + 1));
                    var point = new LearningRatePoint { Step = points.Count + 1, LearningRate = learningRate, Loss = loss, SmoothedLoss = smoothed };
                    points.Add(point);
                    progress?.Report(point);
                    lowest = Math.Min(lowest, smoothed);
                    diverged = smoothed > Options.DivergenceFactor * lowest;
                }
            }
        }

        return points;
    }
}
