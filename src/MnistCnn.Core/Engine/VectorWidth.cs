using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// The SIMD width the engine's kernels use: the widest one the runtime accelerates (512, 256 or 128 bits), or 0
/// for scalar code. <see cref="Limit"/> narrows it for the whole process, so the narrower paths (the ones a
/// browser's WebAssembly runtime or an AVX2-only CPU takes) can be run and compared on any machine.
/// </summary>
internal static class VectorWidth
{
    private static readonly int Hardware =
        Vector512.IsHardwareAccelerated ? 512 :
        Vector256.IsHardwareAccelerated ? 256 :
        Vector128.IsHardwareAccelerated ? 128 : 0;

    private static int _limit = 512;

    /// <summary>The width in bits the kernels use now: 512, 256, 128, or 0 for scalar code.</summary>
    public static int Bits => Math.Min(Hardware, Volatile.Read(ref _limit));

    /// <summary>The widest width this process's runtime accelerates.</summary>
    public static int HardwareBits => Hardware;

    /// <summary>
    /// Narrows the width to at most <paramref name="bits"/> (512, 256, 128 or 0) for the whole process until the
    /// result is disposed, which restores the previous limit. Calls running on other threads meanwhile see it too.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 512, 256, 128 or 0.</exception>
    internal static IDisposable Limit(int bits)
    {
        if (bits is not (512 or 256 or 128 or 0))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "The vector width must be 512, 256, 128 or 0 (scalar).");
        }

        return new Restore(Interlocked.Exchange(ref _limit, bits));
    }

    private sealed class Restore(int previous) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Volatile.Write(ref _limit, previous);
            }
        }
    }
}
