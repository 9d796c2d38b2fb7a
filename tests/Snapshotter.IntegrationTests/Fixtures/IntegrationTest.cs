using Xunit.Abstractions;

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// Base for test classes: writes what the daemons logged during each test to the test output,
/// which the test runner prints when that test fails.
/// </summary>
public abstract class IntegrationTest : IDisposable
{
    private readonly LogMark _mark;

    protected IntegrationTest(ContainerdFixture fixture, ITestOutputHelper output)
    {
        Fixture = fixture;
        Output = output;
        _mark = fixture.Mark();
    }

    protected ContainerdFixture Fixture { get; }

    protected ITestOutputHelper Output { get; }

    protected string Snapshotter => Fixture.SnapshotterName;

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Output.WriteLine(Fixture.LogsSince(_mark));
        }
    }
}
