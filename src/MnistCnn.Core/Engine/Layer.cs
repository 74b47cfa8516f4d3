namespace MnistCnn.Core.Engine;

/// <summary>What a layer of an engine network computes.</summary>
internal enum LayerKind
{
    /// <summary>A k x k convolution, stride 1, no padding, with a bias (PyTorch's <c>Conv2d</c>).</summary>
    Conv2d,

    /// <summary><c>max(x, 0)</c> elementwise.</summary>
    ReLU,

    /// <summary><c>1 / (1 + e^-x)</c> elementwise.</summary>
    Sigmoid,

    /// <summary>A 2x2 max-pool, stride 2 (PyTorch's <c>max_pool2d(x, 2)</c>; the first maximum of a window wins).</summary>
    MaxPool2d,

    /// <summary>Channels, rows, columns into one vector, in that order (PyTorch's <c>flatten(1)</c>).</summary>
    Flatten,

    /// <summary>A fully connected layer with a bias (PyTorch's <c>Linear</c>).</summary>
    Linear,
}

/// <summary>
/// One layer of an engine network. Layers with parameters have a <see cref="Name"/>, which prefixes their
/// PyTorch state-dictionary keys (<c>Name.weight</c>, <c>Name.bias</c>).
/// </summary>
/// <param name="Kind">What the layer computes.</param>
/// <param name="Name">The parameters' name prefix (convolutions and linear layers), otherwise null.</param>
/// <param name="Inputs">Input channels (convolution) or features (linear); 0 for layers without parameters.</param>
/// <param name="Outputs">Output channels (convolution) or features (linear); 0 for layers without parameters.</param>
/// <param name="Kernel">The side of a convolution's kernel; 0 for other layers.</param>
internal sealed record Layer(LayerKind Kind, string? Name = null, int Inputs = 0, int Outputs = 0, int Kernel = 0)
{
    public static Layer Conv2d(string name, int inputs, int outputs, int kernel) => new(LayerKind.Conv2d, name, inputs, outputs, kernel);

    public static Layer Linear(string name, int inputs, int outputs) => new(LayerKind.Linear, name, inputs, outputs);

    public static readonly Layer ReLU = new(LayerKind.ReLU);

    public static readonly Layer Sigmoid = new(LayerKind.Sigmoid);

    public static readonly Layer MaxPool2d = new(LayerKind.MaxPool2d);

    public static readonly Layer Flatten = new(LayerKind.Flatten);

    /// <summary>Whether the layer has a weight and a bias.</summary>
    public bool HasParameters => Kind is LayerKind.Conv2d or LayerKind.Linear;

    /// <summary>The layer as text: <c>conv(1, 20, kernel 5)</c>, <c>relu</c>, <c>linear(800, 500)</c>, ...</summary>
    public override string ToString() => Kind switch
    {
        LayerKind.Conv2d => $"conv({Inputs}, {Outputs}, kernel {Kernel})",
        LayerKind.Linear => $"linear({Inputs}, {Outputs})",
        LayerKind.MaxPool2d => "maxpool(2)",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
