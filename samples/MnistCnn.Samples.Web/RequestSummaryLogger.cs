using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace MnistCnn.Samples.Web;

/// <summary>
/// Logs one line at Information every <see cref="ServiceSettings.SummarySeconds"/> (default a minute) when there
/// were requests: how many, the refusals by status and the latency p50 and p99. Requests themselves are logged
/// at Debug only, so a busy server's log grows by a line a minute.
/// </summary>
internal sealed class RequestSummaryLogger(RequestTally tally, IOptions<ServiceSettings> settings, ILogger<RequestSummaryLogger> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.Value.SummarySeconds));
        var since = Stopwatch.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var summary = tally.TakeSummary();
                var seconds = Stopwatch.GetElapsedTime(since).TotalSeconds;
                since = Stopwatch.GetTimestamp();
                if (summary.Requests > 0)
                {
                    logger.Summary(summary.Requests, seconds, summary.Requests / seconds, summary.Refusals, summary.P50, summary.P99);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
