namespace MnistCnn.Samples.Web;

/// <summary>
/// How the service runs, bound from the <c>Service</c> configuration section (appsettings.json, or the command
/// line: <c>--Service:RatePerSecond 50</c>).
/// </summary>
internal sealed class ServiceSettings
{
    /// <summary>The configuration section the settings are read from.</summary>
    public const string SectionName = "Service";

    /// <summary>
    /// Requests a second each client address may make to the predict endpoints, on average. Default 1000;
    /// 0 turns the rate limiter off. Over it a client gets 429 with <c>Retry-After</c>.
    /// </summary>
    public int RatePerSecond { get; set; } = 1000;

    /// <summary>Requests a client may make at once above its rate (a token bucket's size). Default 2000; at least 1.</summary>
    public int RateBurst { get; set; } = 2000;

    /// <summary>
    /// Seconds between two looks at <c>--model FILE</c> when no file-system event came. Default 2; between
    /// 0.05 and 3600.
    /// </summary>
    public double ModelPollSeconds { get; set; } = 2;

    /// <summary>Seconds between two request summaries in the log (Information). Default 60; between 1 and 86400.</summary>
    public double SummarySeconds { get; set; } = 60;

    /// <summary>The first setting that is out of range, described; <see langword="null"/> when all are valid.</summary>
    public string? Problem() => this switch
    {
        { RatePerSecond: < 0 } => $"Service:RatePerSecond must be 0 (off) or positive (got {RatePerSecond})",
        { RateBurst: < 1 } => $"Service:RateBurst must be positive (got {RateBurst})",
        { ModelPollSeconds: < 0.05 or > 3600 } => $"Service:ModelPollSeconds must be between 0.05 and 3600 (got {ModelPollSeconds})",
        { SummarySeconds: < 1 or > 86400 } => $"Service:SummarySeconds must be between 1 and 86400 (got {SummarySeconds})",
        _ => null,
    };
}
