using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace MnistCnn.Core.Engine;

/// <summary>
/// Runs items 0..count-1, each once, on the calling thread and up to threads - 1 helper threads, which take
/// the next item as they come free; returns when every item has run.
/// </summary>
/// <remarks>
/// <para>
/// Unlike <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>, nobody claims a range ahead:
/// on a busy machine a helper that starts late finds the items done and the caller never waits for it,
/// and one descheduled mid-item delays the step by at most that item.
/// </para>
/// <para>
/// The helpers are the engine's own background threads (<see cref="Helpers"/>), which keep polling for the next
/// run for a short while after each one before they block. A training step runs a few of these a millisecond apart,
/// with the optimizer's update and the next batch in between; a thread-pool thread woken for each would often start
/// after the caller had done every item itself, so two threads ran at the speed of one. A run that finds the helpers
/// taken by another run (two trainers or predictions at once) asks the thread pool instead, as before.
/// </para>
/// </remarks>
internal sealed class WorkItems
{
    private readonly int _count;
    private readonly Action<int> _work;
    private readonly object _gate = new();
    private int _next = -1;
    private int _remaining;
    private int _helperSeats;
    private Exception? _error;

    private WorkItems(int count, Action<int> work, int helpers) => (_count, _work, _remaining, _helperSeats) = (count, work, count, helpers);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int count, int threads, Action<int> work)
    {
        if (threads <= 1 || count <= 1)
        {
            for (var i = 0; i < count; i++)
            {
                work(i);
            }

            return;
        }

        var helpers = Math.Min(threads, count) - 1;
        var items = new WorkItems(count, work, helpers);
        var posted = Helpers.TryPost(items, helpers);
        for (var helper = posted ? helpers : 0; helper < helpers; helper++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Help(), items, preferLocal: false);
        }

        items.Drain();
        items.Wait();
        if (posted)
        {
            Helpers.Release();
        }

        if (items._error is { } error)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
    }

    /// <summary>A helper's share: takes one of the run's helper seats, if one is left, and drains the items.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Help()
    {
        if (Interlocked.Decrement(ref _helperSeats) >= 0)
        {
            Drain();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Drain()
    {
        int item;
        while ((item = Interlocked.Increment(ref _next)) < _count)
        {
            try
            {
                _work(item);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }

            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                lock (_gate)
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }

    // The items still running are short: spin a little before blocking.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Wait()
    {
        var spin = default(SpinWait);
        while (Volatile.Read(ref _remaining) != 0 && !spin.NextSpinWillYield)
        {
            spin.SpinOnce();
        }

        lock (_gate)
        {
            while (Volatile.Read(ref _remaining) != 0)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>
    /// The engine's helper threads, shared by one run at a time: a run posts its items, every helper that sees them
    /// takes a seat while seats are left; after a run a helper polls for the next one for <see cref="PollTicks"/>, then
    /// blocks until one is posted.
    /// </summary>
    private static class Helpers
    {
        /// <summary>At most this many helpers (beyond it, runs ask the thread pool).</summary>
        private const int MaxThreads = 63;

        /// <summary>How long a helper polls after a run: longer than a training step's optimizer update and next batch.</summary>
        private static readonly long PollTicks = Stopwatch.Frequency / 2000;

        private static readonly object Gate = new();
        private static readonly List<Thread> Threads = [];
        private static WorkItems? _current;
        private static int _busy;
        private static long _generation;
        private static int _sleeping;
        private static bool _unavailable;

        /// <summary>Posts the run's items to the helpers, starting helpers as needed; false when another run holds them.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static bool TryPost(WorkItems items, int helpers)
        {
            if (_unavailable || helpers > MaxThreads || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            {
                return false;
            }

            if (Threads.Count < helpers && !Start(helpers))
            {
                Volatile.Write(ref _busy, 0);
                return false;
            }

            Volatile.Write(ref _current, items);
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleeping) > 0)
            {
                lock (Gate)
                {
                    Monitor.PulseAll(Gate);
                }
            }

            return true;
        }

        /// <summary>Ends the posted run (every item has run); a helper that looks at it later finds nothing to do.</summary>
        public static void Release()
        {
            Volatile.Write(ref _current, null);
            Volatile.Write(ref _busy, 0);
        }

        // Called by the run holding _busy, so by one thread at a time.
        private static bool Start(int helpers)
        {
            try
            {
                while (Threads.Count < helpers)
                {
                    var thread = new Thread(Loop) { IsBackground = true, Name = $"MnistCnn.Core engine helper {Threads.Count + 1}" };
                    thread.Start();
                    Threads.Add(thread);
                }

                return true;
            }
            catch (Exception e) when (e is PlatformNotSupportedException or OutOfMemoryException or ThreadStartException)
            {
                // A runtime without threads (WebAssembly), or none left: the thread pool serves these runs.
                _unavailable = Threads.Count == 0;
                return Threads.Count >= helpers;
            }
        }

        private static void Loop()
        {
            var seen = Volatile.Read(ref _generation);
            while (true)
            {
                seen = WaitForRun(seen);
                Volatile.Read(ref _current)?.Help();
            }
        }

        /// <summary>Polls for a run after <paramref name="seen"/> for <see cref="PollTicks"/>, then blocks; returns the new generation.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static long WaitForRun(long seen)
        {
            var deadline = Stopwatch.GetTimestamp() + PollTicks;
            long generation;
            while ((generation = Volatile.Read(ref _generation)) == seen)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    lock (Gate)
                    {
                        Interlocked.Increment(ref _sleeping);
                        while ((generation = Volatile.Read(ref _generation)) == seen)
                        {
                            Monitor.Wait(Gate);
                        }

                        Interlocked.Decrement(ref _sleeping);
                    }

                    return generation;
                }

                Thread.SpinWait(20);
            }

            return generation;
        }
    }
}
