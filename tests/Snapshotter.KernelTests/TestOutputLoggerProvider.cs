using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Snapshotter.KernelTests;

/// <summary>Gives every category a <see cref="TestOutputLogger"/>.</summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TestOutputLogger(output);

    public void Dispose()
    {
    }
}
