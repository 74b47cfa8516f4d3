using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MnistCnn.Core.Data;
using MnistCnn.Core.Engine;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// Trains a classifier with cross-entropy loss and the optimizer of its options (Adam by default; AdamW or SGD),
/// optionally with a learning-rate scheduler and gradient clipping, on the CPU or a CUDA device, validating once
/// per epoch over the whole validation loader.
/// </summary>
/// <remarks>
/// <para>
/// The trainer owns the settings of a run: the device, the seed of the shuffled orders and torch's CPU thread
/// count (see <see cref="TrainerOptions"/>). It leaves torch's process-wide state as it found it: it never seeds
/// or reads torch's global generator, and a thread count it sets is restored when the run ends. Runs on
/// different threads do not disturb each other; one trainer may run several at once.
/// </para>
/// <para>Each training step runs in its own dispose scope, so per-step tensors are released every step.</para>
/// <para>
/// Cancellation is checked before every batch. When it is requested, the run throws
/// <see cref="OperationCanceledException"/>; the model keeps the weights of the last completed step, and the
/// checkpoint file (when configured) still holds the last completed epoch.
/// </para>
/// <para>
/// A NaN or infinite batch loss stops the run with <see cref="TrainingDivergedException"/> naming the epoch
/// and batch; the checkpoint file is not overwritten by the diverged epoch.
/// </para>
/// <para>
/// Runs publish metrics and activities under <see cref="Diagnostics.MnistCnnTelemetry.MeterName"/> and
/// <see cref="Diagnostics.MnistCnnTelemetry.ActivitySourceName"/>.
/// </para>
/// </remarks>
public sealed class Trainer : ITrainer
{
    private readonly ILogger _logger;

    /// <summary>Initializes a trainer.</summary>
    /// <param name="options">The run's options; <see langword="null"/> for the case study's defaults.</param>
    /// <param name="logger">Receives progress and device messages; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">The options contradict each other: <see cref="TrainerOptions.Nesterov"/> is
    /// set for SGD without <see cref="TrainerOptions.Momentum"/>.</exception>
    public Trainer(TrainerOptions? options = null, ILogger<Trainer>? logger = null)
    {
        Options = options ?? new TrainerOptions();
        Options.CheckCombinations(nameof(options));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the trainer's options.</summary>
    public TrainerOptions Options { get; }

    /// <summary>
    /// Trains <paramref name="model"/> with the case study's defaults (<c>new TrainerOptions()</c>), as the
    /// instance method <see cref="Fit(nn.Module{Tensor, Tensor}, DigitDataLoader, DigitDataLoader?, IProgress{TrainingProgress}?, CancellationToken)"/> does.
    /// </summary>
    /// <param name="model">A classifier returning logits <c>[N, ClassCount]</c>; moved to the training device and updated in place.</param>
    /// <param name="trainLoader">The training batches.</param>
    /// <param name="valLoader">The validation batches, or <see langword="null"/> to skip validation.</param>
    /// <returns>One result per completed epoch.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="trainLoader"/> is null.</exception>
    /// <exception cref="ArgumentException">The model has no parameters, cannot take the images, its output width
    /// differs from the class count, or the loaders' datasets differ in image size or classes.</exception>
    /// <exception cref="ObjectDisposedException">A loader's dataset is disposed.</exception>
    /// <exception cref="TrainingDivergedException">A batch loss became NaN or infinite.</exception>
    public static TrainingHistory Fit(nn.Module<Tensor, Tensor> model, DigitDataLoader trainLoader, DigitDataLoader? valLoader = null) =>
        new Trainer().Fit(model, trainLoader, valLoader, progress: null);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="trainLoader"/> is null, or
    /// <paramref name="valLoader"/> is null while a callback needs validation (<see cref="BestModelCheckpoint"/>,
    /// <see cref="EarlyStopping"/>).</exception>
    /// <exception cref="ArgumentException">The model has no parameters, cannot take the images, its output width
    /// differs from the class count, or the loaders' datasets differ in image size or classes, or the learning-rate
    /// scheduler cannot drive a run of this length (a one-cycle warm-up shorter than two steps; a cosine period shorter
    /// than the run with a minimum learning rate of 0). Checked before any work starts.</exception>
    /// <exception cref="ObjectDisposedException">A loader's dataset is disposed.</exception>
    /// <exception cref="InvalidOperationException"><see cref="TrainingDevice.Cuda"/> was asked for but CUDA is not available.</exception>
    /// <exception cref="TrainingDivergedException">A batch loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    public TrainingHistory Fit(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        Run(TorchRuntime.Checked(model), trainLoader, valLoader, progress, checkpointPath: null, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="trainLoader"/> is null
    /// (thrown at once, not through the task).</exception>
    public Task<TrainingHistory> FitAsync(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        RunOffCallerThread(model, trainLoader, valLoader, progress, checkpointPath: null, cancellationToken);

    /// <inheritdoc/>
    public async IAsyncEnumerable<EpochResult> FitEpochsAsync(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainLoader);
        var epochs = Channel.CreateUnbounded<EpochResult>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var training = OffCallerThread(
            () =>
            {
                try
                {
                    var history = Run(model, trainLoader, valLoader, new EpochWriter(epochs.Writer), checkpointPath: null, stop.Token);
                    epochs.Writer.TryComplete();
                    return history;
                }
                catch (Exception e)
                {
                    epochs.Writer.TryComplete(e);
                    throw;
                }
            },
            CancellationToken.None); // always start, so the channel is always completed; the run checks the token itself

        var finished = false;
        try
        {
            await foreach (var epoch in epochs.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return epoch;
            }

            finished = true;
        }
        finally
        {
            if (!finished)
            {
                // The consumer stopped early or the run failed: stop the run between batches and wait for it, so the
                // model is no longer being trained once the enumeration has ended.
                await stop.CancelAsync().ConfigureAwait(false);
                await ((Task)training).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        await training.ConfigureAwait(false);
    }

    /// <summary>
    /// Continues a run from a checkpoint written by a trainer with <see cref="TrainerOptions.CheckpointPath"/>:
    /// restores the weights, the optimizer state and the history, puts the learning-rate scheduler (if any) at the
    /// position the run had reached, then trains the remaining epochs up to <see cref="TrainerOptions.Epochs"/>.
    /// With the same options, seed and data the result equals that of an uninterrupted run, bit for bit.
    /// </summary>
    /// <param name="checkpointPath">The checkpoint file.</param>
    /// <param name="model">A model of the architecture the checkpoint was written from.</param>
    /// <param name="trainLoader">The training batches.</param>
    /// <param name="valLoader">The validation batches, or <see langword="null"/> to skip validation.</param>
    /// <param name="progress">Receives a report after every batch and every epoch; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The history of the whole run, the checkpoint's epochs included.</returns>
    /// <exception cref="FileNotFoundException">The checkpoint does not exist.</exception>
    /// <exception cref="ModelFileException">The checkpoint is damaged, was written from another architecture, or holds
    /// the state of another optimizer than <see cref="TrainerOptions.Optimizer"/>.</exception>
    public TrainingHistory Resume(
        string checkpointPath,
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        return Run(model, trainLoader, valLoader, progress, checkpointPath, cancellationToken);
    }

    /// <summary>
    /// Continues a run from a checkpoint as <see cref="Resume"/> does, on a thread of its own so the caller's thread
    /// is never blocked by the torch work. Progress reports arrive on that thread.
    /// </summary>
    /// <param name="checkpointPath">The checkpoint file.</param>
    /// <param name="model">A model of the architecture the checkpoint was written from. Do not use it until the task has ended.</param>
    /// <param name="trainLoader">The training batches.</param>
    /// <param name="valLoader">The validation batches, or <see langword="null"/> to skip validation.</param>
    /// <param name="progress">Receives a report after every batch and every epoch; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Checked before every batch; the task then ends as canceled.</param>
    /// <returns>The history of the whole run, the checkpoint's epochs included. The task fails with the exceptions <see cref="Resume"/> throws.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="checkpointPath"/>, <paramref name="model"/> or
    /// <paramref name="trainLoader"/> is null (thrown at once, not through the task).</exception>
    /// <exception cref="ArgumentException"><paramref name="checkpointPath"/> is empty (thrown at once).</exception>
    public Task<TrainingHistory> ResumeAsync(
        string checkpointPath,
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        return RunOffCallerThread(model, trainLoader, valLoader, progress, checkpointPath, cancellationToken);
    }

    /// <summary>Resolves a <see cref="TrainingDevice"/> to a torch device, and says why it was chosen.</summary>
    /// <exception cref="InvalidOperationException"><see cref="TrainingDevice.Cuda"/> was asked for but CUDA is not available.</exception>
    internal static (Device Device, string Reason) ResolveDevice(TrainingDevice device) => TorchRuntime.Checked(device) switch
    {
        TrainingDevice.Cpu => (CPU, "the CPU was requested"),
        TrainingDevice.Cuda when cuda.is_available() => (CUDA, "CUDA was requested"),
        TrainingDevice.Cuda => throw new InvalidOperationException(
            "CUDA was requested but TorchSharp reports no usable CUDA device; reference a CUDA backend package (TorchSharp-cuda-windows or " +
                "TorchSharp-cuda-linux) and check the driver."),
        TrainingDevice.Auto when cuda.is_available() => (CUDA, "TorchSharp reports a CUDA device"),
        TrainingDevice.Auto => (CPU, "no CUDA device is available (no CUDA backend package, driver or GPU)"),
        _ => throw new ArgumentOutOfRangeException(nameof(device), device, "Unknown training device."),
    };

    /// <summary>
    /// Creates the run's optimizer with the options' hyperparameters: Adam (TorchSharp's, with a fused CPU update;
    /// see <see cref="FusedAdam"/>), or TorchSharp's AdamW or SGD.
    /// </summary>
    internal OptimizerHelper CreateOptimizer(nn.Module model) => Options.Optimizer switch
    {
        TrainingOptimizer.Adam => new FusedAdam(model.parameters(), Options.LearningRate, Options.Beta1, Options.Beta2, Options.Epsilon, Options.WeightDecay,
            _logger),
        TrainingOptimizer.AdamW => new AdamW(model.parameters(), Options.LearningRate, Options.Beta1, Options.Beta2, Options.Epsilon, Options.WeightDecay,
            amsgrad: false, maximize: false),
        TrainingOptimizer.Sgd => new SGD(model.parameters(), Options.LearningRate, Options.Momentum, dampening: 0, Options.WeightDecay, Options.Nesterov,
            maximize: false),
        _ => throw new InvalidOperationException($"Unknown optimizer {Options.Optimizer}."),
    };

    /// <summary>
    /// One training step: forward, mean cross-entropy (with <paramref name="labelSmoothing"/>), zero_grad, backward,
    /// gradient clipping when <paramref name="gradientClipNorm"/> is set, optimizer step. Returns the batch's loss before the update. For an
    /// engine network (<see cref="ConvNet"/>, <see cref="LeNet"/>, <see cref="SpeedrunNet"/>) on the CPU in float32 the forward and backward
    /// passes are computed in managed code (<see cref="ManagedTraining"/>), with the same results. Runs
    /// inside the caller's dispose scope. The model's output shape is checked once per run, before the first
    /// step (<see cref="ClassifierCheck"/>).
    /// </summary>
    internal static double Step(nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer, Tensor images, Tensor labels, double? gradientClipNorm = null,
        double labelSmoothing = 0)
    {
        if (ManagedTraining.TryComputeGradients(model, optimizer, images, labels, out var fusedLoss, labelSmoothing))
        {
            ClipGradients(optimizer, gradientClipNorm);
            optimizer.step();
            return fusedLoss;
        }

        var loss = nn.functional.cross_entropy(model.call(images), labels, label_smoothing: labelSmoothing);
        optimizer.zero_grad();
        loss.backward();
        ClipGradients(optimizer, gradientClipNorm);
        optimizer.step();

        // Read the raw value: item<float>() refuses to convert an infinite loss.
        return loss.detach().cpu().data<float>()[0];
    }

    /// <summary>Clips the gradients as torch.nn.utils.clip_grad_norm_ does when a maximum norm is set
    /// (<see cref="GradientClipping"/>); returns the total norm before clipping (0 when off).</summary>
    internal static double ClipGradients(OptimizerHelper optimizer, double? maxNorm) =>
        maxNorm is { } max ? GradientClipping.Clip(optimizer, max) : 0;

    // The blocking torch work runs on a thread of its own (it lasts minutes), never on the caller's.
    /// <summary>A run on a thread of its own; the model and the training loader are checked at once, not through the task.</summary>
    private Task<TrainingHistory> RunOffCallerThread(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader,
        IProgress<TrainingProgress>? progress,
        string? checkpointPath,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainLoader);
        return OffCallerThread(() => Run(model, trainLoader, valLoader, progress, checkpointPath, cancellationToken), cancellationToken);
    }

    private static Task<T> OffCallerThread<T>(Func<T> work, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);

    private TrainingHistory Run(
        nn.Module<Tensor, Tensor> model,
        DigitDataLoader trainLoader,
        DigitDataLoader? valLoader,
        IProgress<TrainingProgress>? progress,
        string? checkpointPath,
        CancellationToken cancellationToken)
    {
        CheckArguments(model, trainLoader, valLoader);
        using var threads = TorchThreads.Use(Options.Threads, cancellationToken);
        var (device, reason) = ResolveDevice(Options.Device);
        TrainerLog.DeviceChosen(_logger, device, reason);
        return new TrainingRun(this, _logger, model, trainLoader, valLoader, device, progress, cancellationToken).Execute(checkpointPath);
    }

    /// <summary>Rejects bad arguments before anything changes (threads, callbacks, checkpoint, weights).</summary>
    private void CheckArguments(nn.Module<Tensor, Tensor> model, DigitDataLoader trainLoader, DigitDataLoader? valLoader)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainLoader);
        if (!model.parameters().Any())
        {
            throw new ArgumentException("The model has no parameters to train.", nameof(model));
        }

        if (valLoader is not null)
        {
            var (t, v) = (trainLoader.Dataset, valLoader.Dataset);
            if (t.ImageHeight != v.ImageHeight || t.ImageWidth != v.ImageWidth || t.ClassCount != v.ClassCount)
            {
                throw new ArgumentException(
                    $"The validation data ({v.ImageHeight}x{v.ImageWidth}, {v.ClassCount} classes) does not match the training data " +
                        $"({t.ImageHeight}x{t.ImageWidth}, {t.ClassCount} classes).",
                    nameof(valLoader));
            }
        }

        // Model selection: the callbacks that monitor validation accuracy.
        var selector = Options.Callbacks.FirstOrDefault(c => c is BestModelCheckpoint or EarlyStopping);
        if (valLoader is null && selector is not null)
        {
            throw new ArgumentNullException(nameof(valLoader), $"{selector.GetType().Name} needs validation accuracy: pass a validation loader.");
        }

        Options.LearningRateScheduler?.CheckFits(Options.Epochs, trainLoader.BatchCount, nameof(trainLoader));
        ClassifierCheck.EnsureFits(model, trainLoader.Dataset);
        if (valLoader is not null)
        {
            ClassifierCheck.EnsureFits(model, valLoader.Dataset);
            if (valLoader.Dataset is DigitDataset { IsTestSplit: true } && selector is not null)
            {
                TrainerLog.SelectingOnTestSet(_logger, selector.GetType().Name);
            }
        }
    }

    /// <summary>Passes completed epochs to a channel; the other reports are dropped.</summary>
    private sealed class EpochWriter(ChannelWriter<EpochResult> writer) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value is { Phase: TrainingPhase.EpochCompleted, Result: { } result })
            {
                writer.TryWrite(result);
            }
        }
    }
}
