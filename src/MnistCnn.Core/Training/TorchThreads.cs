using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// Lends torch's CPU thread count to the runs that ask for one, and gives the count back when the last of them
/// ends, so a run with <see cref="TrainerOptions.Threads"/> leaves the process as it found it.
/// </summary>
/// <remarks>
/// <para>
/// libtorch's thread count is process-wide state (a global value, copied into each native thread's OpenMP
/// settings when that thread first runs parallel work). Runs that ask for the same count share it; a run that
/// asks for another count waits until the runs holding the current one have ended, since two counts cannot be
/// in force at once. The count is set on the thread that runs the training, where it takes effect.
/// </para>
/// <para>Runs without a thread count take no lease and run with whatever count is in force.</para>
/// </remarks>
internal static class TorchThreads
{
    private static readonly object Gate = new();
    private static int _holders;
    private static int _leased;
    private static int _original;

    // What the last lease cycle gave back, and the count it had lent. A thread that first touched torch while a
    // lease was in force keeps that count in its own OpenMP settings, so its reading of the count can be stale.
    private static int? _lastRestored;
    private static int _lastLeased;

    /// <summary>Sets torch's thread count to <paramref name="threads"/> (when given) until the returned lease is disposed.</summary>
    /// <exception cref="OperationCanceledException">Cancellation was requested while waiting for runs with another count to end.</exception>
    public static Lease Use(int? threads, CancellationToken cancellationToken)
    {
        if (threads is not { } count)
        {
            return default;
        }

        lock (Gate)
        {
            while (_holders > 0 && _leased != count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(Gate, TimeSpan.FromMilliseconds(100));
            }

            var previous = get_num_threads();
            if (_holders == 0)
            {
                // A reading equal to the count the last cycle lent is that stale value, not the process's count.
                var original = _lastRestored is { } restored && previous == _lastLeased ? restored : previous;
                (_original, _leased) = (original, count);
            }

            if (previous != count)
            {
                set_num_threads(count);
            }

            _holders++;
            return new Lease(previous, active: true);
        }
    }

    /// <summary>A thread count in force until disposed; the default value holds nothing.</summary>
    internal readonly struct Lease(int previous, bool active) : IDisposable
    {
        /// <summary>Restores this thread's previous count, and the process's original one when this is the last lease.</summary>
        public void Dispose()
        {
            if (!active)
            {
                return;
            }

            lock (Gate)
            {
                var restore = _holders == 1 ? _original : previous;
                if (get_num_threads() != restore)
                {
                    set_num_threads(restore);
                }

                if (--_holders == 0)
                {
                    (_lastRestored, _lastLeased) = (restore, _leased);
                    Monitor.PulseAll(Gate);
                }
            }
        }
    }
}
