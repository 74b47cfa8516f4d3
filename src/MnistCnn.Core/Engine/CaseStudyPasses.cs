namespace MnistCnn.Core.Engine;

/// <summary>
/// The passes of networks with exactly the case study's layers (conv 1→3 3x3, sigmoid, conv 3→6 3x3, sigmoid,
/// flatten, linear 3456→10) through its hand-tuned kernels, which the generic layers would not match in speed.
/// </summary>
internal sealed class CaseStudyPasses : NetworkPasses
{
    public CaseStudyPasses(NetworkDescription description)
        : base(description)
    {
        if (!Fits(description))
        {
            throw new ArgumentException($"{description.Name} does not have the case study's layers.", nameof(description));
        }
    }

    /// <summary>Whether <paramref name="description"/> has the case study's layers, whatever its parameters are called.</summary>
    public static bool Fits(NetworkDescription description) =>
        description.Layers.Select(l => l with { Name = null }).SequenceEqual(NetworkDescription.ConvNet.Layers.Select(l => l with { Name = null }));

    /// <inheritdoc/>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public override void Logits(ParameterView parameters, ReadOnlySpan<float> image, Span<float> logits)
    {
        // 128-bit vectors (a browser's WebAssembly runtime): the kernels shaped for its interpreter.
        if (VectorWidth.Bits == 128)
        {
            CaseStudyInterpreted.Logits(image, parameters[0], parameters[1], parameters[2], parameters[3], parameters[4], parameters[5], logits);
            return;
        }

        Span<float> input = stackalloc float[CaseStudyForward.InputLength];
        input.Clear();
        CaseStudyForward.LoadImage(image, input);
        CaseStudyForward.Logits(parameters, input, logits);
    }

    /// <inheritdoc/>
    public override GradientStep CreateGradientStep() => new CaseStudyStep();
}
