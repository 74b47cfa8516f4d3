namespace MnistCnn.Core.Engine;

/// <summary>
/// The logits of images under one set of parameters (prediction and validation; never training), from
/// <see cref="NetworkPasses.CreatePredictor"/>. It may keep a copy of the parameters in the layout its kernels
/// read best, so it answers for the parameters as they were when it was made: make a new one after they change.
/// Thread-safe; allocates nothing after a thread's first call.
/// </summary>
internal abstract class Predictor
{
    protected Predictor(NetworkDescription description) => Description = description;

    /// <summary>The network.</summary>
    public NetworkDescription Description { get; }

    /// <summary>
    /// Computes the logits of <paramref name="count"/> images (<see cref="NetworkDescription.ImagePixels"/> floats
    /// each, one after another, scaled as in training) into <paramref name="logits"/> (<see cref="NetworkDescription.Classes"/>
    /// per image). An image's logits are the same bits whatever the count and wherever the image lies in the batch.
    /// </summary>
    public abstract void Logits(ReadOnlySpan<float> images, int count, Span<float> logits);
}

/// <summary>A predictor that asks its passes for one image at a time (the case study's hand-tuned kernels).</summary>
internal sealed class PassesPredictor(NetworkPasses passes, ParameterView parameters) : Predictor(passes.Description)
{
    /// <inheritdoc/>
    public override void Logits(ReadOnlySpan<float> images, int count, Span<float> logits)
    {
        var classes = Description.Classes;
        for (var n = 0; n < count; n++)
        {
            passes.Logits(parameters, images.Slice(n * NetworkDescription.ImagePixels, NetworkDescription.ImagePixels), logits.Slice(n * classes, classes));
        }
    }
}
