namespace MnistCnn.Samples.Web;

/// <summary>The JSON answer of <c>POST /api/predict/batch</c>: one prediction per image, in the order they were sent.</summary>
/// <param name="Count">The number of images.</param>
/// <param name="Predictions">The predictions, index = the image's position in the request.</param>
internal sealed record BatchResponse(int Count, IReadOnlyList<PredictionResponse> Predictions);
