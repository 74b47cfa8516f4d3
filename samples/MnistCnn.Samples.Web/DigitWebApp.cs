using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using MnistCnn.Core.DependencyInjection;
using MnistCnn.Core.Diagnostics;
using MnistCnn.Core.Inference;
using OpenTelemetry.Metrics;

namespace MnistCnn.Samples.Web;

/// <summary>
/// The web app: the drawing page from wwwroot, <c>POST /api/predict</c> and <c>/api/predict/batch</c>, health
/// (<c>/healthz</c>, <c>/readyz</c>), the OpenAPI document (<c>/openapi/v1.json</c>) and Prometheus metrics
/// (<c>/metrics</c>).
/// </summary>
internal static class DigitWebApp
{
    /// <summary>The rate-limiter policy of the predict endpoints: a token bucket per client address.</summary>
    public const string PerClientPolicy = "per-client";

    /// <summary>
    /// Builds the app from command-line arguments: <c>--urls</c> (default http://127.0.0.1:5000, from
    /// appsettings.json), <c>--model FILE</c> (weights to load instead of the pretrained model, reloaded when
    /// the file is replaced), the <c>Limits:*</c> and the <c>Service:*</c> settings. The library's
    /// <c>AddMnistCnn</c> registers the classifier; it is loaded here, so a bad file fails before the server starts.
    /// </summary>
    public static WebApplication Create(string[] args)
    {
        // The page and the settings are copied beside the app, so it runs from any working folder.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        var limits = builder.Configuration.GetSection(PredictionLimits.SectionName).Get<PredictionLimits>() ?? new();
        var settings = builder.Configuration.GetSection(ServiceSettings.SectionName).Get<ServiceSettings>() ?? new();
        if ((limits.Problem() ?? settings.Problem()) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        var modelPath = builder.Configuration["model"] is { Length: > 0 } model ? Path.GetFullPath(model) : null;

        var services = builder.Services;
        // The library registers the classifier; it is the model served at start. Requests read ModelStore.Current,
        // which replaces it when the watched file changes.
        services.AddMnistCnn(options => options.ClassifierWeightsPath = modelPath);
        services.AddSingleton(Options.Create(limits));
        services.AddSingleton(Options.Create(settings));
        services.AddSingleton<ServiceMetrics>();
        services.AddSingleton(provider => new ModelStore(
            ModelStore.First(modelPath, provider.GetRequiredService<DigitClassifier>), modelPath,
            provider.GetRequiredService<ILogger<ModelStore>>(), provider.GetRequiredService<ServiceMetrics>()));
        services.AddHostedService<ModelWatcher>();
        services.AddSingleton<RequestTally>();
        services.AddHostedService<RequestSummaryLogger>();
        services.AddSingleton<DecodingBudget>();
        services.AddSingleton<PredictEndpoint>();
        services.AddSingleton<BatchEndpoint>();
        services.AddProblemDetails();
        services.AddHealthChecks().AddCheck<ModelHealthCheck>("model", tags: [ModelHealthCheck.ReadyTag]);
        services.AddOpenApi();
        services.AddRateLimiter(options => ConfigureRateLimiter(options, settings));
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(MnistCnnTelemetry.MeterName, ServiceMetrics.MeterName,
                "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.RateLimiting",
                // .NET's own: the garbage collector's heap and collections, the process's memory and CPU, the thread pool.
                "System.Runtime")
            // The library's prediction durations are micro- to milliseconds: buckets where they fall.
            .AddView(MnistCnnTelemetry.PredictDurationHistogram, new ExplicitBucketHistogramConfiguration
            {
                Boundaries = [0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
            })
            .AddPrometheusExporter());

        // The endpoints refuse a body over their limits before (or while) reading it; Kestrel's own limit is
        // higher so that it can discard the rest of a refused body and the client still reads its 413. Its
        // request line and header limits are higher than the app's for the same reason (see RequestSizeGate).
        services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBytes;
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;
            kestrel.Limits.MaxRequestLineSize = limits.MaxRequestTargetBytes * PredictionLimits.KestrelLimitFactor;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeaderBytes * PredictionLimits.KestrelLimitFactor;
            kestrel.Limits.MaxRequestHeaderCount = limits.MaxRequestHeaderCount * PredictionLimits.KestrelLimitFactor;
        });

        var app = builder.Build();
        app.UseMiddleware<RequestObserver>();
        // Unexpected failures become problem details too, never an HTML page or a dropped connection.
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestSizeGate>();
        app.UseRateLimiter();
        app.UseDefaultFiles();
        app.UseStaticFiles();

        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ModelHealthCheck.ReadyTag),
            ResponseWriter = ModelHealthCheck.WriteReadyAsync,
        });
        app.MapOpenApi();
        app.MapPrometheusScrapingEndpoint("/metrics");

        var api = app.MapGroup("/api").RequireRateLimiting(PerClientPolicy);
        Document(api.MapPost("/predict", (HttpRequest request, PredictEndpoint endpoint, CancellationToken cancellationToken) =>
                endpoint.HandleAsync(request, cancellationToken)), "image/png", "image/jpeg", "multipart/form-data")
            .Produces<PredictionResponse>()
            .WithName("Predict")
            .WithSummary("Classifies one PNG or JPEG image: the raw body, or the field 'file' of a multipart/form-data upload.");
        Document(api.MapPost("/predict/batch", (HttpRequest request, BatchEndpoint endpoint, CancellationToken cancellationToken) =>
                endpoint.HandleAsync(request, cancellationToken)), BatchEndpoint.RowsType, "multipart/form-data")
            .Produces<BatchResponse>()
            .WithName("PredictBatch")
            .WithSummary("Classifies many images, answered in request order: raw 784-byte MNIST rows as application/octet-stream, or one PNG or JPEG file per image as multipart/form-data.");

        // Resolved here, so the model is loaded now and a bad file fails before the server starts.
        var served = app.Services.GetRequiredService<ModelStore>().Current.Identity;
        app.Logger.ModelLoaded(served.Name, served.Architecture, served.Sha256);
        return app;
    }

    // The body types (in the document only: Accepts metadata would make routing refuse other types with an
    // empty 415 before the endpoint can say what it accepts) and the statuses every predict endpoint may
    // answer besides 200, all as problem details.
    private static RouteHandlerBuilder Document(RouteHandlerBuilder endpoint, params string[] contentTypes) =>
        endpoint
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = contentTypes.ToDictionary(
                        type => type,
                        _ => new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } }),
                };
                return Task.CompletedTask;
            })
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status408RequestTimeout)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status414UriTooLong)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status431RequestHeaderFieldsTooLarge);

    private static void ConfigureRateLimiter(RateLimiterOptions options, ServiceSettings settings)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.AddPolicy(PerClientPolicy, context => settings.RatePerSecond == 0
            ? RateLimitPartition.GetNoLimiter(IPAddress.None)
            : RateLimitPartition.GetTokenBucketLimiter(context.Connection.RemoteIpAddress ?? IPAddress.None, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = settings.RateBurst,
                TokensPerPeriod = settings.RatePerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
        options.OnRejected = async (rejected, cancellationToken) =>
        {
            var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
                : 1;
            var response = rejected.HttpContext.Response;
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Results.Problem(
                    detail: $"This client made more than {settings.RatePerSecond} requests a second (bursts of {settings.RateBurst}); retry after {seconds} s.",
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many requests")
                .ExecuteAsync(rejected.HttpContext);
        };
    }
}
