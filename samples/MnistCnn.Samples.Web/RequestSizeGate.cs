using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace MnistCnn.Samples.Web;

/// <summary>
/// Refuses a request line or headers over the limits with a problem detail: 414 for a request target over
/// <see cref="PredictionLimits.MaxRequestTargetBytes"/>, 431 for headers over
/// <see cref="PredictionLimits.MaxRequestHeaderBytes"/> or <see cref="PredictionLimits.MaxRequestHeaderCount"/>.
/// Kestrel's own limits are set <see cref="PredictionLimits.KestrelLimitFactor"/> times higher: Kestrel answers
/// before any middleware runs and with an empty body, so it only answers what is far beyond these limits.
/// </summary>
internal sealed class RequestSizeGate(RequestDelegate next, IOptions<PredictionLimits> options)
{
    public Task InvokeAsync(HttpContext context)
    {
        var limits = options.Value;
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget.Length ?? 0;
        if (target > limits.MaxRequestTargetBytes)
        {
            return Refuse(context, StatusCodes.Status414UriTooLong, "Request target too long",
                $"The request target is {target:N0} bytes; the limit is {limits.MaxRequestTargetBytes:N0}.");
        }

        var headers = context.Request.Headers;
        if (headers.Count > limits.MaxRequestHeaderCount)
        {
            return Refuse(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "Too many request headers",
                $"The request has {headers.Count} header fields; the limit is {limits.MaxRequestHeaderCount}.");
        }

        // Counted as on the wire: "name: value\r\n" for each value.
        long bytes = 0;
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                bytes += name.Length + (value?.Length ?? 0) + 4;
            }
        }

        if (bytes > limits.MaxRequestHeaderBytes)
        {
            return Refuse(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "Request headers too large",
                $"The request headers take {bytes:N0} bytes; the limit is {limits.MaxRequestHeaderBytes:N0}.");
        }

        return next(context);
    }

    private static Task Refuse(HttpContext context, int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);
}
