using System.Diagnostics;

namespace MnistCnn.Samples.Web;

/// <summary>
/// The outermost middleware: counts every request into the <see cref="RequestTally"/>, logs it at Debug, and
/// names the served model in the <see cref="ModelIdentity.ShaHeader"/> header of every answer the app writes
/// (the predict endpoints name the model that made their answer; it wins over the one served at the end).
/// </summary>
internal sealed class RequestObserver
{
    private readonly RequestDelegate _next;
    private readonly RequestTally _tally;
    private readonly ILogger<RequestObserver> _logger;
    private readonly Func<object, Task> _nameModel;

    public RequestObserver(RequestDelegate next, RequestTally tally, ModelStore store, ILogger<RequestObserver> logger)
    {
        (_next, _tally, _logger) = (next, tally, logger);
        // Made once: registering it per request allocates nothing but the callback's list entry.
        _nameModel = state =>
        {
            var headers = ((HttpResponse)state).Headers;
            if (!headers.ContainsKey(ModelIdentity.ShaHeader))
            {
                headers[ModelIdentity.ShaHeader] = store.Current.Identity.Sha256;
            }

            return Task.CompletedTask;
        };
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        context.Response.OnStarting(_nameModel, context.Response);
        try
        {
            await _next(context);
        }
        finally
        {
            var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var status = context.Response.StatusCode;
            _tally.Record(status, milliseconds);
            _logger.Request(context.Request.Method, context.Request.Path, status, milliseconds);
        }
    }
}
