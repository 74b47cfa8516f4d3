using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Web;

/// <summary>
/// The JSON answer of <c>POST /api/predict</c> (and each item of a batch's), e.g.
/// <c>{ "digit": 7, "confidence": 0.998, "probabilities": [ ... ten ... ], "isLikelyDigit": true, "width": 28, "height": 28 }</c>.
/// </summary>
/// <param name="Digit">The most probable digit, 0-9.</param>
/// <param name="Confidence">Its probability, the largest of <paramref name="Probabilities"/>.</param>
/// <param name="Probabilities">The probability of each digit 0-9 (index = digit).</param>
/// <param name="IsLikelyDigit">False when the ink does not look like a digit at all (blank, noise, scribbles to the edges).</param>
/// <param name="Width">The width of the received image in pixels.</param>
/// <param name="Height">The height of the received image in pixels.</param>
internal sealed record PredictionResponse(
    int Digit, float Confidence, IReadOnlyList<float> Probabilities, bool IsLikelyDigit, int Width, int Height)
{
    public static PredictionResponse From(DigitPrediction prediction, int width, int height) =>
        new(prediction.Digit, prediction.Confidence, prediction.Probabilities, prediction.IsLikelyDigit, width, height);
}
