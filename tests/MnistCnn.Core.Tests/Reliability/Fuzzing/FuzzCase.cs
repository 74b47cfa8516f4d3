namespace MnistCnn.Core.Tests.Reliability.Fuzzing;

/// <summary>
/// One mutated file: the mutation's name and the bytes, and what the mutation alone decides: that every loader
/// must refuse it (<see cref="MustRefuseWith"/>: words its message must contain, empty for any reason) or must
/// load it (<see cref="MustLoad"/>). When neither is set, the independent oracle decides.
/// </summary>
internal sealed record FuzzCase(int Index, string Mutation, byte[] Bytes, string? MustRefuseWith = null, bool MustLoad = false)
{
    /// <summary>Marks a mutation that every loader must refuse, whatever the reason it gives.</summary>
    public const string AnyReason = "";

    /// <summary>
    /// The generator of case <paramref name="index"/> of a series: the same in every process (unlike
    /// <see cref="HashCode"/>, which is seeded per process), so the child process and the test make the same file.
    /// </summary>
    public static Random RandomFor(int series, int index, int salt) =>
        new((int)((((uint)series * 2_654_435_761u) ^ ((uint)index * 40_503u) ^ ((uint)salt * 97u)) & int.MaxValue));
}
