using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Wasm;

/// <summary>What the page shows for one drawing: the classifier's answer and how long each step took.</summary>
/// <param name="Prediction">The classifier's answer for the prepared 28x28 digit.</param>
/// <param name="IsLikelyDigit">False when the pad shows no ink or the ink does not look like a digit.</param>
/// <param name="PreparationMs">Milliseconds taken by <see cref="DigitImage.TryToMnist"/> (the pad's pixels to MNIST's form).</param>
/// <param name="NetworkMs">Milliseconds taken by <see cref="DigitClassifier.Predict"/> (the network on the 28x28 digit).</param>
internal sealed record BrowserPrediction(DigitPrediction Prediction, bool IsLikelyDigit, double PreparationMs, double NetworkMs);
