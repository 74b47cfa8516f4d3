using System.Buffers;

namespace MnistCnn.Core.Engine;

/// <summary>
/// A network's parameters held by managed code: one pinned array, each parameter a slice of it in the
/// description's order. Immutable after construction (nobody writes the array once it is filled); every value is finite.
/// </summary>
internal sealed class NetworkWeights
{
    private readonly AlignedBuffer _values;

    private NetworkWeights(NetworkDescription description, AlignedBuffer values, int[] offsets)
    {
        Description = description;
        _values = values;
        unsafe
        {
            // Pinned (allocated on the pinned heap), so the addresses hold for the object's lifetime.
            var start = (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref values.Span[0]);
            View = new ParameterView(description, offsets.Select(offset => start + (offset * sizeof(float))).ToArray());
        }
    }

    /// <summary>The network.</summary>
    public NetworkDescription Description { get; }

    /// <summary>The parameters, for the passes.</summary>
    public ParameterView View { get; }

    /// <summary>Parameter <paramref name="index"/> (read-only).</summary>
    public ReadOnlySpan<float> this[int index] => View[index];

    /// <summary>
    /// Fills the weights of <paramref name="description"/> from <paramref name="values"/>, which writes parameter
    /// <c>i</c> into the span it is given; returns the index of the first parameter holding a NaN or infinity
    /// (and its element) as an error instead.
    /// </summary>
    public static NetworkWeights Create(NetworkDescription description, SpanAction<float, ParameterInfo> values, out (ParameterInfo Parameter,
        int Element)? nonFinite)
    {
        // Every parameter starts a 64-byte cache line (as libtorch's tensors do), so the kernels' whole vectors never
        // straddle two lines.
        var offsets = new int[description.Parameters.Count];
        var length = 0;
        for (var i = 0; i < offsets.Length; i++)
        {
            offsets[i] = length;
            length += RoundUp(description.Parameters[i].Length);
        }

        var buffer = new AlignedBuffer(length);
        nonFinite = null;
        for (var i = 0; i < offsets.Length; i++)
        {
            var parameter = description.Parameters[i];
            var span = buffer.Span.Slice(offsets[i], parameter.Length);
            values(span, parameter);
            var bad = FirstNonFinite(span);
            if (bad >= 0 && nonFinite is null)
            {
                nonFinite = (parameter, bad);
            }
        }

        return new NetworkWeights(description, buffer, offsets);
    }

    // Each parameter starts a cache line of the aligned buffer.
    private static int RoundUp(int floats) =>
        (floats + AlignedBuffer.AlignmentFloats - 1) / AlignedBuffer.AlignmentFloats * AlignedBuffer.AlignmentFloats;

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
