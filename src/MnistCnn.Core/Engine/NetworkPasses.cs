using System.Collections.Concurrent;

namespace MnistCnn.Core.Engine;

/// <summary>
/// The passes of one <see cref="NetworkDescription"/> in managed code: the logits of an image (prediction and
/// validation) and the gradients of a batch (training). <see cref="For"/> picks the case study's hand-tuned
/// kernels for exactly its layer shapes, and the generic layer-by-layer passes for any other network.
/// </summary>
internal abstract class NetworkPasses
{
    private static readonly ConcurrentDictionary<NetworkDescription, NetworkPasses> Cache = new();

    protected NetworkPasses(NetworkDescription description) => Description = description;

    /// <summary>The network.</summary>
    public NetworkDescription Description { get; }

    /// <summary>The passes of <paramref name="description"/> (one instance per description: they hold no state).</summary>
    public static NetworkPasses For(NetworkDescription description) =>
        Cache.GetOrAdd(description, static d => CaseStudyPasses.Fits(d) ? new CaseStudyPasses(d) : new LayerPasses(d));

    /// <summary>
    /// Computes the logits of one image: <see cref="NetworkDescription.ImagePixels"/> floats, row-major, scaled as in
    /// training. Thread-safe; allocates nothing after a thread's first call.
    /// </summary>
    public abstract void Logits(ParameterView parameters, ReadOnlySpan<float> image, Span<float> logits);

    /// <summary>
    /// A predictor over <paramref name="parameters"/> as they are now (prediction and validation): by default one
    /// <see cref="Logits"/> call per image; networks with faster whole-batch kernels override it.
    /// </summary>
    public virtual Predictor CreatePredictor(ParameterView parameters) => new PassesPredictor(this, parameters);

    /// <summary>A workspace for training steps (one per run: it keeps its buffers between steps).</summary>
    public abstract GradientStep CreateGradientStep();
}

/// <summary>
/// The gradients of a training step: forward, mean softmax cross-entropy over the batch and the whole backward
/// pass, written into the gradients (never added to them). Deterministic whatever the thread count: every
/// gradient element is summed in one fixed order (over the images in image order).
/// </summary>
internal abstract class GradientStep
{
    /// <summary>Computes the batch's gradients; returns its mean loss (float32 sums, as torch's mean reduction).</summary>
    /// <param name="parameters">The parameters (not written).</param>
    /// <param name="gradients">Where the gradients go (same layout as the parameters).</param>
    /// <param name="images">The address of <paramref name="count"/> images of <see cref="NetworkDescription.ImagePixels"/> floats.</param>
    /// <param name="labels">The address of <paramref name="count"/> int64 labels, each a class of the network.</param>
    /// <param name="count">The batch size, at least 1.</param>
    /// <param name="threads">The most threads to use.</param>
    /// <param name="labelSmoothing">The loss's label smoothing in [0, 1) (<see cref="Loss.SoftmaxCrossEntropy"/>); 0 is plain cross-entropy.</param>
    public abstract double Run(ParameterView parameters, ParameterView gradients, nint images, nint labels, int count, int threads, float labelSmoothing);
}
