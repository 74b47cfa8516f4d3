namespace MnistCnn.Core.Engine;

/// <summary>
/// A network the engine runs, as layers: a convolutional part on one image (convolutions, activations, pools),
/// a flatten, and a dense part (linear layers and activations) ending in the class logits. Everything else is
/// derived from the layers: every activation's shape, and the parameters with PyTorch's state-dictionary names
/// and shapes in forward order, which the torch modules, the weights files, checkpoints, the passes and the
/// classifier all read from here.
/// </summary>
internal sealed class NetworkDescription
{
    /// <summary>The case study's network: conv 1→3 (3x3), sigmoid, conv 3→6 (3x3), sigmoid, flatten, linear 3456→10.</summary>
    public static readonly NetworkDescription ConvNet = new(
        "ConvNet",
        [
            Layer.Conv2d("conv1", 1, 3, 3), Layer.Sigmoid,
            Layer.Conv2d("conv2", 3, 6, 3), Layer.Sigmoid,
            Layer.Flatten,
            Layer.Linear("linear1", 6 * 24 * 24, ClassCount),
        ]);

    /// <summary>
    /// The LeNet-5-like network: conv 1→20 (5x5), ReLU, max-pool, conv 20→50 (5x5), ReLU, max-pool, flatten,
    /// linear 800→500, ReLU, linear 500→10.
    /// </summary>
    public static readonly NetworkDescription LeNet = new(
        "LeNet",
        [
            Layer.Conv2d("conv1", 1, 20, 5), Layer.ReLU, Layer.MaxPool2d,
            Layer.Conv2d("conv2", 20, 50, 5), Layer.ReLU, Layer.MaxPool2d,
            Layer.Flatten,
            Layer.Linear("fc1", 50 * 4 * 4, 500), Layer.ReLU,
            Layer.Linear("fc2", 500, ClassCount),
        ]);

    /// <summary>
    /// The speedrun network, small and quick to train: conv 1→24 (5x5), max-pool, ReLU, conv 24→32 (3x3), max-pool,
    /// ReLU, flatten, linear 800→256, ReLU, linear 256→10 (about 1.24M multiply-adds an image). Pooling before the
    /// ReLU gives the same values and gradients as after it, on a quarter of the elements.
    /// </summary>
    public static readonly NetworkDescription Speedrun = new(
        "SpeedrunNet",
        [
            Layer.Conv2d("conv1", 1, 24, 5), Layer.MaxPool2d, Layer.ReLU,
            Layer.Conv2d("conv2", 24, 32, 3), Layer.MaxPool2d, Layer.ReLU,
            Layer.Flatten,
            Layer.Linear("fc1", 32 * 5 * 5, 256), Layer.ReLU,
            Layer.Linear("fc2", 256, ClassCount),
        ]);

    /// <summary>Every architecture the engine knows, by name: what a weights file's <c>architecture</c> may say.</summary>
    public static readonly IReadOnlyList<NetworkDescription> Known = [ConvNet, LeNet, Speedrun];

    /// <summary>The input image side length.</summary>
    public const int ImageSize = 28;

    /// <summary>Pixels of one input image (one channel).</summary>
    public const int ImagePixels = ImageSize * ImageSize;

    /// <summary>The number of classes (logits) every architecture produces.</summary>
    public const int ClassCount = 10;

    /// <param name="name">The architecture's name, as weights files record it.</param>
    /// <param name="layers">The layers in forward order.</param>
    /// <exception cref="ArgumentException">The layers do not fit together (shapes, order, a missing flatten).</exception>
    public NetworkDescription(string name, IReadOnlyList<Layer> layers)
    {
        Name = name;
        Layers = layers;
        var shapes = new (int Channels, int Height, int Width)[layers.Count + 1];
        shapes[0] = (1, ImageSize, ImageSize);
        var parameters = new List<ParameterInfo>();
        var offset = 0;
        FlattenIndex = -1;
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var (c, h, w) = shapes[i];
            var dense = FlattenIndex >= 0;
            shapes[i + 1] = layer.Kind switch
            {
                LayerKind.Conv2d when !dense && layer.Inputs == c && layer.Kernel >= 1 && layer.Kernel <= h && layer.Kernel <= w && layer.Outputs > 0 =>
                    (layer.Outputs, h - layer.Kernel + 1, w - layer.Kernel + 1),
                LayerKind.MaxPool2d when !dense && h % 2 == 0 && w % 2 == 0 => (c, h / 2, w / 2),
                LayerKind.Flatten when !dense => (c * h * w, 1, 1),
                LayerKind.Linear when dense && layer.Inputs == c && layer.Outputs > 0 => (layer.Outputs, 1, 1),
                LayerKind.ReLU or LayerKind.Sigmoid => (c, h, w),
                _ => throw new ArgumentException($"{name}: layer {i} ({layer}) does not fit an input of {c} x {h} x {w}{(dense ? " after the flatten" : "")}.",
                    nameof(layers)),
            };
            if (layer.Kind == LayerKind.Flatten)
            {
                FlattenIndex = i;
            }

            if (layer.HasParameters)
            {
                long[] weightShape = layer.Kind == LayerKind.Conv2d ? [layer.Outputs, layer.Inputs, layer.Kernel, layer.Kernel] : [layer.Outputs, layer.Inputs];
                var weight = new ParameterInfo(layer.Name + ".weight", weightShape, i, offset);
                offset += weight.Length;
                var bias = new ParameterInfo(layer.Name + ".bias", [layer.Outputs], i, offset);
                offset += bias.Length;
                parameters.Add(weight);
                parameters.Add(bias);
            }
        }

        if (FlattenIndex < 0 || FlattenIndex + 1 >= layers.Count || layers[FlattenIndex + 1].Kind != LayerKind.Linear || layers[^1].Kind != LayerKind.Linear
            || shapes[^1].Channels < 2)
        {
            throw new ArgumentException($"{name}: a network ends in a flatten, then linear layers and activations, the first and the last linear (the last " +
                $"gives the logits).", nameof(layers));
        }

        Shapes = shapes;
        Parameters = parameters;
        ParameterCount = offset;
        Classes = shapes[^1].Channels;
        Features = shapes[FlattenIndex + 1].Channels;
    }

    /// <summary>The architecture's name (<c>ConvNet</c>, <c>LeNet</c>, <c>SpeedrunNet</c>), as weights files record it.</summary>
    public string Name { get; }

    /// <summary>The layers in forward order.</summary>
    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>The shape of every activation: <c>Shapes[i]</c> is layer i's input, <c>Shapes[^1]</c> the logits (classes x 1 x 1).</summary>
    public IReadOnlyList<(int Channels, int Height, int Width)> Shapes { get; }

    /// <summary>The parameters in forward order (each layer's weight, then its bias): the state-dictionary entries.</summary>
    public IReadOnlyList<ParameterInfo> Parameters { get; }

    /// <summary>The number of trainable parameters.</summary>
    public int ParameterCount { get; }

    /// <summary>The number of classes (logits).</summary>
    public int Classes { get; }

    /// <summary>The index of the flatten layer: the convolutional part is before it, the dense part after.</summary>
    public int FlattenIndex { get; }

    /// <summary>The length of the flattened features the dense part starts from.</summary>
    public int Features { get; }

    /// <summary>
    /// What prediction runs as one step with the convolution at <paramref name="index"/>: <c>conv [ReLU] pool [ReLU]</c>
    /// when a 2x2 max-pool follows whose input has even sides (so it drops nothing), else <c>conv [ReLU]</c>.
    /// </summary>
    /// <returns>The index of the first layer after the step, whether it ends with a ReLU, and whether it pools.</returns>
    public (int Next, bool Relu, bool Pooled) FusedWithConvolution(int index)
    {
        var (_, outHeight, outWidth) = Shapes[index + 1];
        var next = index + 1;
        var relu = next < FlattenIndex && Layers[next].Kind == LayerKind.ReLU;
        next += relu ? 1 : 0;
        var pooled = next < FlattenIndex && Layers[next].Kind == LayerKind.MaxPool2d && outHeight % 2 == 0 && outWidth % 2 == 0;
        if (pooled)
        {
            next++;
            if (next < FlattenIndex && Layers[next].Kind == LayerKind.ReLU)
            {
                relu = true;
                next++;
            }
        }

        return (next, relu, pooled);
    }

    /// <summary>The layers as text, for metadata and messages: <c>conv(1, 3, kernel 3), sigmoid, ...</c>.</summary>
    public string LayerText => string.Join(", ", Layers);

    /// <summary>The expected tensors as text, for messages: <c>conv1.weight F32 [3, 1, 3, 3]; ...</c>.</summary>
    public string ParameterText => string.Join("; ", Parameters.Select(p => $"{p.Name} F32 [{string.Join(", ", p.Shape)}]"));

    /// <summary>The known architecture called <paramref name="name"/> (ordinal, case-sensitive), or null.</summary>
    public static NetworkDescription? Find(string name) => Known.FirstOrDefault(d => d.Name == name);

    /// <summary>The known architectures whose parameter names and shapes are exactly <paramref name="tensors"/>'.</summary>
    public static IEnumerable<NetworkDescription> Matching(IReadOnlyDictionary<string, long[]> tensors) =>
        Known.Where(d => d.Parameters.Count == tensors.Count
            && d.Parameters.All(p => tensors.TryGetValue(p.Name, out var shape) && shape.SequenceEqual(p.Shape)));

    /// <summary>Whether two descriptions compute the same function of the same parameters (names aside from the parameters').</summary>
    public bool SameLayers(NetworkDescription other) => Layers.SequenceEqual(other.Layers);

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>One parameter of a <see cref="NetworkDescription"/>.</summary>
/// <param name="Name">The state-dictionary key (<c>conv1.weight</c>).</param>
/// <param name="Shape">PyTorch's shape.</param>
/// <param name="Layer">The index of the layer it belongs to.</param>
/// <param name="Offset">Where it starts when all parameters are laid end to end in order.</param>
internal sealed record ParameterInfo(string Name, long[] Shape, int Layer, int Offset)
{
    /// <summary>The number of elements.</summary>
    public int Length => (int)Shape.Aggregate(1L, (product, size) => product * size);
}
