namespace MnistCnn.Core.Engine;

/// <summary>
/// Runs items 0..count-1, each once, on the calling thread and up to threads - 1 pool threads, which take
/// the next item as they come free; returns when every item has run.
/// </summary>
/// <remarks>
/// Unlike <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>, nobody claims a range ahead:
/// on a busy machine a pool thread that starts late finds the items done and the caller never waits for it,
/// and one descheduled mid-item delays the step by at most that item.
/// </remarks>
internal sealed class WorkItems
{
    private readonly int _count;
    private readonly Action<int> _work;
    private readonly object _gate = new();
    private int _next = -1;
    private int _remaining;
    private Exception? _error;

    private WorkItems(int count, Action<int> work) => (_count, _work, _remaining) = (count, work, count);

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

        var items = new WorkItems(count, work);
        for (var helper = 1; helper < Math.Min(threads, count); helper++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Drain(), items, preferLocal: false);
        }

        items.Drain();
        items.Wait();
        if (items._error is { } error)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
    }

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
}
