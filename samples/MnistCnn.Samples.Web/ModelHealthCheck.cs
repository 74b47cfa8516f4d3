using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MnistCnn.Samples.Web;

/// <summary>
/// Readiness (<c>/readyz</c>): healthy once a model is loaded (the app loads it before it listens), with the
/// model's name, architecture and SHA-256; degraded (still 200: the previous model serves) when the last
/// replacement file failed to load, with the reason.
/// </summary>
internal sealed class ModelHealthCheck(ModelStore store) : IHealthCheck
{
    public const string ReadyTag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var model = store.Current;
        var failure = store.LastFailure;
        var data = new Dictionary<string, object>
        {
            ["name"] = model.Identity.Name,
            ["architecture"] = model.Identity.Architecture,
            ["sha256"] = model.Identity.Sha256,
            ["loadedAt"] = model.LoadedAt,
        };
        if (failure is null)
        {
            return Task.FromResult(HealthCheckResult.Healthy("A model is loaded.", data));
        }

        data["reloadFailure"] = failure;
        return Task.FromResult(HealthCheckResult.Degraded(
            $"The replacement file {failure.File} did not load ({failure.Reason}); the previous model is serving.", data: data));
    }

    /// <summary>
    /// Writes <c>/readyz</c>'s answer: <c>{ "status", "model": { "name", "architecture", "sha256", "loadedAt" },
    /// "reloadFailure": { "file", "sha256", "reason", "at" } | null, "description" }</c>.
    /// </summary>
    public static Task WriteReadyAsync(HttpContext context, HealthReport report)
    {
        var entry = report.Entries.Values.Single();
        var data = entry.Data;
        var answer = new
        {
            status = report.Status.ToString(),
            model = new
            {
                name = data["name"],
                architecture = data["architecture"],
                sha256 = data["sha256"],
                loadedAt = data["loadedAt"],
            },
            reloadFailure = data.TryGetValue("reloadFailure", out var failure) ? failure : null,
            description = entry.Description,
        };
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(answer, JsonOptions));
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
