using System.Diagnostics;
using Microsoft.Extensions.Options;
using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Web;

/// <summary><c>POST /api/predict</c>: an image file in, the digit and the ten probabilities out.</summary>
internal sealed class PredictEndpoint(
    DigitClassifier classifier, IOptions<PredictionLimits> limits, DecodingBudget budget, ILogger<PredictEndpoint> logger)
{
    public async Task<IResult> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var file = await ImageUpload.ReadAsync(request, limits.Value, cancellationToken);
            // The image's pixels are taken from the decoding budget until its prediction is made, so large images
            // arriving together are decoded a few at a time and memory stays bounded.
            using var decoding = await budget.TakeAsync(GreyImage.CheckHeader(file, limits.Value), cancellationToken);
            var started = Stopwatch.GetTimestamp();
            using var image = GreyImage.Decode(file, limits.Value);
            var prediction = classifier.PredictImage(image.Pixels, image.Width, image.Height);
            logger.Predicted(image.Width, image.Height, prediction.Digit, prediction.Confidence, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return Results.Ok(PredictionResponse.From(prediction, image));
        }
        catch (RejectedImageException e)
        {
            logger.Rejected(e.StatusCode, e.Message);
            return Results.Problem(detail: e.Message, statusCode: e.StatusCode, title: e.Title);
        }
    }
}
