using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Web;

/// <summary>The web app: the drawing page from wwwroot and <c>POST /api/predict</c>.</summary>
internal static class DigitWebApp
{
    /// <summary>
    /// Builds the app from command-line arguments: <c>--urls</c> (default http://127.0.0.1:5000, from
    /// appsettings.json), <c>--model FILE</c> (weights to load instead of the pretrained model) and the
    /// <c>Limits:*</c> settings. The model is loaded here, so a bad file fails before the server starts.
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
        if (limits.Problem() is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        var model = builder.Configuration["model"];
        var classifier = string.IsNullOrEmpty(model) ? DigitClassifier.Pretrained() : DigitClassifier.Load(model);

        builder.Services.AddSingleton(Options.Create(limits));
        builder.Services.AddSingleton(classifier);
        builder.Services.AddSingleton<DecodingBudget>();
        builder.Services.AddSingleton<PredictEndpoint>();
        builder.Services.AddProblemDetails();
        // The endpoint refuses a body over the file limit before (or while) reading it; Kestrel's own limit is
        // higher so that it can discard the rest of a refused body and the client still reads its 413.
        builder.Services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBytes;
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;
        });

        var app = builder.Build();
        // Unexpected failures become problem details too, never an HTML page or a dropped connection.
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapPost("/api/predict", (HttpRequest request, PredictEndpoint endpoint, CancellationToken cancellationToken) =>
            endpoint.HandleAsync(request, cancellationToken));
        app.Logger.ModelLoaded(string.IsNullOrEmpty(model) ? "the pretrained model" : model);
        return app;
    }
}
