namespace MnistCnn.Samples.Web;

/// <summary>A replacement weights file that could not be loaded; the previous model went on serving.</summary>
/// <param name="File">The weights file.</param>
/// <param name="Sha256">The SHA-256 of the bytes that failed to load, lower-case hex.</param>
/// <param name="Reason">Why it could not be loaded.</param>
/// <param name="At">When.</param>
internal sealed record ReloadFailure(string File, string Sha256, string Reason, DateTimeOffset At);
