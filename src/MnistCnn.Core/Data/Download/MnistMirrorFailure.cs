namespace MnistCnn.Core.Data.Download;

/// <summary>Why one mirror could not provide a verified file of a data set.</summary>
/// <remarks>
/// Init-only properties rather than a positional record, so that a field added in a later version breaks no caller
/// (no constructor or <c>Deconstruct</c> changes shape).
/// </remarks>
public sealed record MnistMirrorFailure
{
    /// <summary>The mirror as configured, or the target folder for a hand-placed <c>.gz</c> file.</summary>
    public required string Mirror { get; init; }

    /// <summary>What went wrong on the last attempt, e.g. <c>HTTP 404 (Not Found)</c>, a timeout or a hash mismatch.</summary>
    public required string Reason { get; init; }

    /// <summary>How many times the mirror was tried.</summary>
    public required int Attempts { get; init; }
}
