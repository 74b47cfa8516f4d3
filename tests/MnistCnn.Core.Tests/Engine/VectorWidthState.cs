namespace MnistCnn.Core.Tests.Engine;

/// <summary>
/// Tests that narrow <c>VectorWidth</c> (a process-wide setting) run one at a time, and alone: a test elsewhere
/// would otherwise run on a narrowed path without knowing.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class VectorWidthState
{
    public const string Name = "vector width";
}
