using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>Routes server logs into the test output, so a failing test shows what the server saw.</summary>
internal sealed class TestOutputLogger(ITestOutputHelper output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {eventId.Id}: {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test already finished; late logs have nowhere to go.
        }
    }
}
