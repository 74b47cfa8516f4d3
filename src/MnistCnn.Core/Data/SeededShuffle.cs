namespace MnistCnn.Core.Data;

/// <summary>
/// A Fisher-Yates shuffle driven by SplitMix64, so an order depends only on (seed, epoch) and is the same
/// on every platform and .NET version (unlike <see cref="Random"/>, whose sequence is not guaranteed).
/// </summary>
internal static class SeededShuffle
{
    public static void Shuffle(long[] items, long seed, int epoch)
    {
        var state = Mix((ulong)seed ^ Mix((ulong)epoch + 0x9E3779B97F4A7C15UL));
        for (var i = items.Length - 1; i > 0; i--)
        {
            state += 0x9E3779B97F4A7C15UL;
            var j = (int)Below(Mix(state), (ulong)i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    // Lemire's multiply-shift maps a 64-bit draw to [0, bound); the bias for bound < 2^32 is negligible.
    private static ulong Below(ulong draw, ulong bound) => (ulong)(((UInt128)draw * bound) >> 64);
}
