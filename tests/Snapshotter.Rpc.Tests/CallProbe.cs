namespace Snapshotter.Rpc.Tests;

/// <summary>Lets a test watch a blocking handler: when it started (with its context) and whether its token fired.</summary>
internal sealed class CallProbe
{
    public TaskCompletionSource<ServerCallContext> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
