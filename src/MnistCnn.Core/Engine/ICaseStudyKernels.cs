namespace MnistCnn.Core.Engine;

/// <summary>
/// The case study's kernels at one vector width narrower than 256 bits (<see cref="CaseStudyLanes{TOps, TVector}"/>), so
/// <see cref="CaseStudyForward"/> and <see cref="CaseStudyBackward"/> pick the width once (<see cref="CaseStudyLanes.Narrow"/>)
/// instead of spelling out every width at every kernel.
/// </summary>
internal interface ICaseStudyKernels
{
    /// <inheritdoc cref="CaseStudyForward.Conv1"/>
    void Conv1(ReadOnlySpan<float> weight, ReadOnlySpan<float> biases, ReadOnlySpan<float> input, Span<float> output);

    /// <inheritdoc cref="CaseStudyForward.Conv2"/>
    void Conv2(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> input, Span<float> output);

    /// <inheritdoc cref="CaseStudyForward.Linear"/>
    void Linear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> features, Span<float> logits);

    /// <inheritdoc cref="CaseStudyBackward.Conv2OutputGradient"/>
    void Conv2OutputGradient(
        ReadOnlySpan<float> linearWeight, ReadOnlySpan<float> logitGradient, ReadOnlySpan<float> features, Span<float> da2, Span<float> conv2BiasGradient,
        int channel);

    /// <inheritdoc cref="CaseStudyBackward.Conv2WeightGradient"/>
    void Conv2WeightGradient(ReadOnlySpan<float> da2, ReadOnlySpan<float> conv1, Span<float> gradient);

    /// <inheritdoc cref="CaseStudyBackward.Conv1OutputGradient"/>
    void Conv1OutputGradient(
        ReadOnlySpan<float> da2, ReadOnlySpan<float> flippedConv2Weight, ReadOnlySpan<float> conv1, Span<float> da1, Span<float> conv1BiasGradient);

    /// <inheritdoc cref="CaseStudyBackward.Conv1WeightGradient"/>
    void Conv1WeightGradient(ReadOnlySpan<float> da1, ReadOnlySpan<float> input, Span<float> gradient);

    /// <inheritdoc cref="CaseStudyBackward.LinearWeightGradient"/>
    void LinearWeightGradient(ReadOnlySpan<float> logitGradients, ReadOnlySpan<float> features, int count, int from, int to, Span<float> gradient);
}
