namespace MnistCnn.Core.Data.Download;

/// <summary>Why one mirror could not provide a verified file of a data set.</summary>
/// <param name="Mirror">The mirror as configured, or the target folder for a hand-placed <c>.gz</c> file.</param>
/// <param name="Reason">What went wrong on the last attempt, e.g. <c>HTTP 404 (Not Found)</c>, a timeout or a hash mismatch.</param>
/// <param name="Attempts">How many times the mirror was tried.</param>
public sealed record MnistMirrorFailure(string Mirror, string Reason, int Attempts);
