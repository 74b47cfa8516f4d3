using Microsoft.Extensions.Options;

namespace MnistCnn.Samples.Web;

/// <summary>
/// How many pixels may be decoded at once, across all requests (<c>Limits:MaxDecodingPixels</c>). A request
/// takes its image's pixel count before decoding and gives it back after predicting; requests that do not
/// fit wait in arrival order. So decoding memory stays below the budget times a few bytes a pixel however
/// many large images arrive together, while small images (a 28 x 28 digit is 784 pixels) pass many at once.
/// A small image (at most 1/64 of the budget: 512 Ki pixels, 2 MiB to decode, by default) is not counted
/// and never waits, so a few large uploads do not hold up every digit: it costs less than the body its
/// connection may already hold (<c>Limits:MaxBodyBytes</c>), so it is bounded by the connections as bodies are.
/// </summary>
internal sealed class DecodingBudget(IOptions<PredictionLimits> limits)
{
    private readonly object _gate = new();
    private readonly LinkedList<(long Pixels, TaskCompletionSource Granted)> _waiting = new();
    private long _available = limits.Value.MaxDecodingPixels;

    /// <summary>Gets the largest image that is decoded without taking from the budget: 1/64 of it.</summary>
    public long SmallImagePixels => limits.Value.MaxDecodingPixels / 64;

    /// <summary>Gets the pixels not taken right now (for tests and diagnostics).</summary>
    public long Available
    {
        get
        {
            lock (_gate)
            {
                return _available;
            }
        }
    }

    /// <summary>
    /// Takes <paramref name="pixels"/> from the budget, waiting behind earlier requests until they fit;
    /// dispose the result to give them back. Throws <see cref="OperationCanceledException"/> when the request
    /// is aborted while waiting (nothing is then taken).
    /// </summary>
    public async ValueTask<IDisposable> TakeAsync(long pixels, CancellationToken cancellationToken)
    {
        // The limits guarantee MaxPixels <= MaxDecodingPixels, so every accepted image fits an empty budget.
        if (pixels <= SmallImagePixels)
        {
            return NothingTaken.Instance;
        }

        pixels = Math.Min(pixels, limits.Value.MaxDecodingPixels);
        LinkedListNode<(long, TaskCompletionSource)> node;
        lock (_gate)
        {
            if (_waiting.Count == 0 && pixels <= _available)
            {
                _available -= pixels;
                return new Lease(this, pixels);
            }

            node = _waiting.AddLast((pixels, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }

        await using (cancellationToken.Register(() => Cancel(node)))
        {
            await node.Value.Item2.Task;
        }

        return new Lease(this, pixels);
    }

    private void Cancel(LinkedListNode<(long Pixels, TaskCompletionSource Granted)> node)
    {
        lock (_gate)
        {
            // Granted already (no longer in the list): the waiter owns its pixels and gives them back itself.
            if (node.List is null)
            {
                return;
            }

            _waiting.Remove(node);
            node.Value.Granted.TrySetCanceled();
            GrantWaiting();
        }
    }

    private void Give(long pixels)
    {
        lock (_gate)
        {
            _available += pixels;
            GrantWaiting();
        }
    }

    // First come, first served: a large image at the head is not overtaken by small ones, so it cannot starve.
    private void GrantWaiting()
    {
        while (_waiting.First is { } first && first.Value.Pixels <= _available)
        {
            _available -= first.Value.Pixels;
            _waiting.RemoveFirst();
            first.Value.Granted.TrySetResult();
        }
    }

    private sealed class NothingTaken : IDisposable
    {
        public static readonly NothingTaken Instance = new();

        public void Dispose()
        {
        }
    }

    private sealed class Lease(DecodingBudget budget, long pixels) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                budget.Give(pixels);
            }
        }
    }
}
