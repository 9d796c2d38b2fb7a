using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Snapshotter.Rpc.Tests;

/// <summary>Keeps every log entry so tests can check what the server logged.</summary>
internal sealed class CollectingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new CollectingLogger(this, categoryName);

    public void Dispose() { }

    private sealed class CollectingLogger(CollectingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => provider.Entries.Enqueue((category, logLevel, eventId, formatter(state, exception), exception));
    }
}
