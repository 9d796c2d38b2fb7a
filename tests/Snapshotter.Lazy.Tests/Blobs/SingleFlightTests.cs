using Snapshotter.Lazy.Blobs;

namespace Snapshotter.Lazy.Tests.Blobs;

public sealed class SingleFlightTests
{
    [Fact]
    public async Task GetAsync_ConcurrentCallers_ShareOneCreation()
    {
        var flight = new SingleFlight<object>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var created = 0;
        async Task<object> Create()
        {
            Interlocked.Increment(ref created);
            await gate.Task;
            return new object();
        }

        var waits = Enumerable.Range(0, 16).Select(_ => flight.GetAsync(Create)).ToArray();
        Assert.Null(flight.Value);
        gate.SetResult();
        var values = await Task.WhenAll(waits);

        Assert.Equal(1, created);
        Assert.All(values, v => Assert.Same(values[0], v));
        Assert.Same(values[0], flight.Value);
        Assert.Same(values[0], await flight.GetAsync(Create));
    }

    [Fact]
    public async Task GetAsync_AfterAFailedCreation_CreatesAgain()
    {
        var flight = new SingleFlight<string>();
        var attempts = 0;
        Task<string> Create() => ++attempts == 1 ? Task.FromException<string>(new IOException("registry down")) : Task.FromResult("table");

        await Assert.ThrowsAsync<IOException>(() => flight.GetAsync(Create));
        Assert.Null(flight.Value);

        Assert.Equal("table", await flight.GetAsync(Create));
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task GetAsync_OneWaiterCancelled_OthersStillGetTheValue()
    {
        var flight = new SingleFlight<string>();
        var gate = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();

        var cancelled = flight.GetAsync(() => gate.Task, cancellationToken: cts.Token);
        var patient = flight.GetAsync(() => Task.FromResult("unused"));
        await cts.CancelAsync();
        gate.SetResult("table");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal("table", await patient);
    }
}
