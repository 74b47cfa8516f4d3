using System.Diagnostics.Metrics;

namespace MnistCnn.Samples.Web;

/// <summary>
/// The service's own instruments, on the meter <see cref="MeterName"/>: predictions by digit and model reloads
/// by outcome. /metrics exports them beside ASP.NET Core's and the library's (see <see cref="DigitWebApp"/>).
/// </summary>
internal sealed class ServiceMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "MnistCnn.Samples.Web";

    /// <summary>The outcome tag of a model that was swapped in.</summary>
    public const string ReloadLoaded = "loaded";

    /// <summary>The outcome tag of a replacement file that did not load.</summary>
    public const string ReloadFailed = "failed";

    // The ten digits' tags, made once: a prediction adds to its counter without allocating.
    private static readonly KeyValuePair<string, object?>[] DigitTags =
        [.. Enumerable.Range(0, 10).Select(d => new KeyValuePair<string, object?>("digit", d.ToString(System.Globalization.CultureInfo.InvariantCulture)))];

    private readonly Counter<long> _predictions;
    private readonly Counter<long> _reloads;

    public ServiceMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _predictions = meter.CreateCounter<long>("mnistcnn.web.predictions", "{image}", "Images answered, by predicted digit.");
        _reloads = meter.CreateCounter<long>("mnistcnn.web.model.reloads", "{reload}", "Replacement weights files met, by outcome (loaded, failed).");
    }

    /// <summary>Counts one answered image.</summary>
    public void Predicted(int digit) => _predictions.Add(1, DigitTags[digit]);

    /// <summary>Counts one reload with its outcome.</summary>
    public void Reloaded(string outcome) => _reloads.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
