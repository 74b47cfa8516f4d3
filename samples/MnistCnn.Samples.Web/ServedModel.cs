using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Web;

/// <summary>
/// A loaded classifier with its identity, swapped in as one reference: a request reads it once and uses that
/// classifier and that identity for its whole answer, so it never mixes two models.
/// </summary>
/// <param name="Classifier">The classifier, immutable and thread-safe.</param>
/// <param name="Identity">Which model it is.</param>
/// <param name="LoadedAt">When it was loaded.</param>
internal sealed record ServedModel(DigitClassifier Classifier, ModelIdentity Identity, DateTimeOffset LoadedAt);
