namespace MnistCnn.Core.Data.Download;

/// <summary>How often an HTTP mirror is tried for one file, how long to wait between tries, and which failures are worth another try.</summary>
internal sealed class RetryPolicy(int retriesPerMirror, TimeSpan retryDelay)
{
    /// <summary>Tries per mirror: the first one and the retries.</summary>
    public int Attempts { get; } = 1 + retriesPerMirror;

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (from 1): doubling from the configured delay.</summary>
    public TimeSpan DelayAfter(int attempt) => retryDelay * Math.Pow(2, attempt - 1);

    // Request timeout, too many requests, and server errors may pass; anything else will not.
    public static bool IsTransient(int statusCode) => statusCode is 408 or 429 or >= 500;
}
