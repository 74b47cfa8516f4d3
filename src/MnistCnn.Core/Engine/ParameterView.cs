namespace MnistCnn.Core.Engine;

/// <summary>
/// The one view of a network's parameters (or of their gradients) the passes read and write: each parameter of
/// the description as a span over memory that stays put while the view is used (pinned arrays, or CPU tensors
/// that are neither resized nor moved meanwhile).
/// </summary>
internal sealed unsafe class ParameterView
{
    private readonly nint[] _addresses;
    private readonly int[] _weightOf;

    /// <param name="description">The network.</param>
    /// <param name="addresses">The address of each parameter's first float, in the description's order.</param>
    public ParameterView(NetworkDescription description, nint[] addresses)
    {
        if (addresses.Length != description.Parameters.Count)
        {
            throw new ArgumentException($"{description.Name} has {description.Parameters.Count} parameters; got {addresses.Length} addresses.",
                nameof(addresses));
        }

        Description = description;
        _addresses = addresses;
        _weightOf = new int[description.Layers.Count];
        Array.Fill(_weightOf, -1);
        for (var i = 0; i < description.Parameters.Count; i += 2)
        {
            _weightOf[description.Parameters[i].Layer] = i;
        }
    }

    /// <summary>The network the parameters belong to.</summary>
    public NetworkDescription Description { get; }

    /// <summary>Parameter <paramref name="index"/> (in the description's order).</summary>
    public Span<float> this[int index] => new((float*)_addresses[index], Description.Parameters[index].Length);

    /// <summary>The weight of layer <paramref name="layer"/> (a convolution or linear layer), row-major as PyTorch's.</summary>
    public Span<float> Weight(int layer) => this[_weightOf[layer]];

    /// <summary>The bias of layer <paramref name="layer"/>.</summary>
    public Span<float> Bias(int layer) => this[_weightOf[layer] + 1];
}
