namespace MnistCnn.Core.Models;

/// <summary>One tensor of a <see cref="SafeTensorsFile"/>: its name, dtype, shape and byte range in the data.</summary>
/// <param name="Name">The tensor's name (a state dictionary key).</param>
/// <param name="DType">The safetensors dtype name, e.g. <c>F32</c>.</param>
/// <param name="Shape">The dimensions, outermost first.</param>
/// <param name="Start">The first byte, relative to the start of the data.</param>
/// <param name="End">One past the last byte, relative to the start of the data.</param>
/// <param name="ElementCount">The product of the dimensions.</param>
internal readonly record struct SafeTensorsEntry(string Name, string DType, long[] Shape, long Start, long End, long ElementCount)
{
    /// <summary>Gets the number of data bytes.</summary>
    public long ByteLength => End - Start;

    /// <summary>Gets the shape as text, e.g. <c>[3, 1, 3, 3]</c>.</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}
