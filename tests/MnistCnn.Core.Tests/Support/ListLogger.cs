using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.Tests.Support;

/// <summary>A <see cref="Trainer"/>'s <see cref="ListLogger{TCategory}"/>.</summary>
internal sealed class ListLogger : ListLogger<Trainer>;

/// <summary>A logger that keeps every entry (level, event id, formatted message), for tests that assert on the log.</summary>
internal class ListLogger<TCategory> : ILogger<TCategory>
{
    private readonly ConcurrentQueue<(LogLevel Level, EventId EventId, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, EventId EventId, string Message)> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, eventId, formatter(state, exception)));
}
