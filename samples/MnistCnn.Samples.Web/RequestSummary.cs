using System.Globalization;

namespace MnistCnn.Samples.Web;

/// <summary>Requests over one interval: counts by status and the latency percentiles in milliseconds.</summary>
/// <param name="ByStatus">Requests by HTTP status.</param>
/// <param name="P50">Median latency (NaN without requests).</param>
/// <param name="P99">99th percentile latency (NaN without requests).</param>
internal sealed record RequestSummary(IReadOnlyDictionary<int, long> ByStatus, double P50, double P99)
{
    /// <summary>Gets all requests.</summary>
    public long Requests => ByStatus.Values.Sum();

    /// <summary>Gets the refusals (status 400 and above) as "413: 2, 429: 10", or "none".</summary>
    public string Refusals => ByStatus.Where(s => s.Key >= 400) is var refused && refused.Any()
        ? string.Join(", ", refused.OrderBy(s => s.Key).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key}: {s.Value}")))
        : "none";
}
