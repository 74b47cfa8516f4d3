using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace MnistCnn.Samples.Web;

/// <summary><c>POST /api/predict</c>: an image file in, the digit and the ten probabilities out.</summary>
internal sealed class PredictEndpoint(
    ModelStore store, IOptions<PredictionLimits> limits, DecodingBudget budget, ServiceMetrics metrics, ILogger<PredictEndpoint> logger)
{
    public async Task<IResult> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // One model for the whole answer, named in its header, even if another is swapped in meanwhile.
        var model = store.Current;
        request.HttpContext.Response.Headers[ModelIdentity.ShaHeader] = model.Identity.Sha256;
        try
        {
            var file = await ImageUpload.ReadAsync(request, limits.Value, cancellationToken);
            // The image's pixels are taken from the decoding budget until its prediction is made, so large images
            // arriving together are decoded a few at a time and memory stays bounded.
            using var decoding = await budget.TakeAsync(GreyImage.CheckHeader(file, limits.Value), cancellationToken);
            var started = Stopwatch.GetTimestamp();
            using var image = GreyImage.Decode(file, limits.Value);
            var prediction = model.Classifier.PredictImage(image.Pixels, image.Width, image.Height);
            metrics.Predicted(prediction.Digit);
            logger.Predicted(image.Width, image.Height, prediction.Digit, prediction.Confidence, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return Results.Ok(PredictionResponse.From(prediction, image.Width, image.Height));
        }
        catch (RejectedImageException e)
        {
            logger.Rejected(e.StatusCode, e.Message);
            return e.ToProblem();
        }
    }
}
