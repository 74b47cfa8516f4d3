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
/// <para>
/// Reading the count (<c>get_num_threads</c>) reports the calling thread's OpenMP setting, which is the global
/// value only on a thread that has not run torch work since the global last changed: a thread that ran work
/// during another run's lease keeps that run's count. So the process's count that a lease cycle gives back is
/// read on a new thread, which takes the global value; each run's own thread gets back what it read before.
/// </para>
/// <para>Runs without a thread count take no lease and run with whatever count is in force.</para>
/// </remarks>
internal static class TorchThreads
{
    private static readonly object Gate = new();
    private static int _holders;
    private static int _leased;
    private static int _original;

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
                (_original, _leased) = (ProcessCount(), count);
            }

            if (previous != count)
            {
                set_num_threads(count);
            }

            _holders++;
            return new Lease(previous, active: true);
        }
    }

    /// <summary>The process's count: read on a new native thread, whose OpenMP setting is the global value.</summary>
    private static int ProcessCount()
    {
        var count = 0;
        var reader = new Thread(() => count = get_num_threads(), maxStackSize: 256 * 1024) { IsBackground = true, Name = "torch thread count" };
        reader.Start();
        reader.Join();
        return count;
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
                    Monitor.PulseAll(Gate);
                }
            }
        }
    }
}
