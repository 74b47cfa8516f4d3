using System.Numerics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// The passes of any engine network, layer by layer. Convolutions are im2col + <see cref="Gemm"/>: forward
/// <c>W·cols</c>, weight gradient <c>dY·colsᵀ</c>, input gradient <c>Wᵀ·dY</c> then col2im. The convolutional part
/// runs per image; in training the dense part runs over the whole batch, each linear layer one product split
/// into fixed column blocks (<see cref="DenseStep"/>).
/// </summary>
/// <remarks>
/// Activations are applied in place (ReLU and sigmoid gradients need only their outputs), so an image's
/// convolutional part keeps one buffer per convolution or pool output (<see cref="ConvPlan"/>).
/// </remarks>
internal sealed class LayerPasses : NetworkPasses
{
    [ThreadStatic]
    private static float[]? _threadScratch;

    [ThreadStatic]
    private static int[]? _threadIndices;

    private readonly int _denseFloats;

    public LayerPasses(NetworkDescription description)
        : base(description)
    {
        Plan = new ConvPlan(description);
        _denseFloats = description.Layers.Skip(description.FlattenIndex + 1).Where(l => l.Kind == LayerKind.Linear).Sum(l => l.Outputs);
    }

    /// <summary>Where the convolutional part keeps an image's activations.</summary>
    public ConvPlan Plan { get; }

    /// <inheritdoc/>
    public override void Logits(ParameterView parameters, ReadOnlySpan<float> image, Span<float> logits)
    {
        var plan = Plan;
        var length = plan.ImageFloats + plan.ColumnFloats + _denseFloats;
        var scratch = _threadScratch is { } s && s.Length >= length ? s : _threadScratch = new float[length];
        var indices = _threadIndices is { } x && x.Length >= plan.ImageIndices ? x : _threadIndices = new int[Math.Max(1, plan.ImageIndices)];
        var activations = scratch.AsSpan(0, plan.ImageFloats);
        var columns = scratch.AsSpan(plan.ImageFloats, plan.ColumnFloats);
        image.CopyTo(activations);
        plan.Forward(parameters, activations, indices, columns);

        // The dense part on one row.
        var output = activations.Slice(plan.FeaturesAt, Description.Features);
        ReadOnlySpan<float> input = output;
        var next = scratch.AsSpan(plan.ImageFloats + plan.ColumnFloats);
        for (var i = Description.FlattenIndex + 1; i < Description.Layers.Count; i++)
        {
            var layer = Description.Layers[i];
            if (layer.Kind == LayerKind.Linear)
            {
                output = next[..layer.Outputs];
                next = next[layer.Outputs..];
                Gemm.MultiplyTransposedB(1, layer.Outputs, layer.Inputs, input, layer.Inputs, parameters.Weight(i), layer.Inputs, output, layer.Outputs,
                    accumulate: false);
                Kernels.AddBias(output, parameters.Bias(i));
                input = output;
            }
            else
            {
                Kernels.Activate(layer.Kind, output);
            }
        }

        output.CopyTo(logits);
    }

    /// <inheritdoc/>
    // 128-bit vectors (a browser's WebAssembly runtime): the predictor shaped for its interpreter.
    public override Predictor CreatePredictor(ParameterView parameters) =>
        VectorWidth.Bits == 128 ? new InterpretedLayerPredictor(Description, parameters) : new LayerPredictor(Description, parameters);

    /// <inheritdoc/>
    public override GradientStep CreateGradientStep() => new DenseStep(this);
}
