namespace MnistCnn.Samples.Web;

/// <summary>
/// Requests since the last <see cref="TakeSummary"/>: how many, by status, and their latencies in buckets 5%
/// apart (from 10 us), so a percentile is known to within 5% without keeping every latency. Lock-free:
/// every request adds to two counters.
/// </summary>
internal sealed class RequestTally
{
    private const double FirstBucketMilliseconds = 0.01;
    private const double BucketRatio = 1.05;
    private const int Buckets = 400;   // up to 10 us x 1.05^400, about 50 minutes
    private static readonly double LogRatio = Math.Log(BucketRatio);

    private readonly long[] _byStatus = new long[600];
    private readonly long[] _latency = new long[Buckets];

    /// <summary>Counts one answered request.</summary>
    public void Record(int status, double milliseconds)
    {
        Interlocked.Increment(ref _byStatus[Math.Clamp(status, 0, _byStatus.Length - 1)]);
        var bucket = milliseconds <= FirstBucketMilliseconds ? 0 : (int)Math.Ceiling(Math.Log(milliseconds / FirstBucketMilliseconds) / LogRatio);
        Interlocked.Increment(ref _latency[Math.Min(bucket, Buckets - 1)]);
    }

    /// <summary>Takes the counts since the last call and starts again from zero.</summary>
    public RequestSummary TakeSummary()
    {
        var byStatus = new Dictionary<int, long>();
        for (var status = 0; status < _byStatus.Length; status++)
        {
            if (Interlocked.Exchange(ref _byStatus[status], 0) is > 0 and var count)
            {
                byStatus[status] = count;
            }
        }

        var latency = new long[Buckets];
        for (var i = 0; i < Buckets; i++)
        {
            latency[i] = Interlocked.Exchange(ref _latency[i], 0);
        }

        return new(byStatus, Percentile(latency, 0.50), Percentile(latency, 0.99));
    }

    // The upper bound of the bucket holding the percentile: at most 5% above the true value.
    private static double Percentile(long[] latency, double fraction)
    {
        var total = latency.Sum();
        if (total == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Ceiling(fraction * total);
        long seen = 0;
        for (var i = 0; i < latency.Length; i++)
        {
            seen += latency[i];
            if (seen >= rank)
            {
                return FirstBucketMilliseconds * Math.Pow(BucketRatio, i);
            }
        }

        return FirstBucketMilliseconds * Math.Pow(BucketRatio, Buckets - 1);
    }
}
