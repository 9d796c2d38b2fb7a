using Microsoft.Win32.SafeHandles;

namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>A file whose reads never finish until cancelled (a registry that hangs); records what happened.</summary>
internal sealed class SlowFuseFile(string name, long size) : IFuseFile
{
    public string Name { get; } = name;

    public long Size { get; } = size;

    /// <summary>Completes when the first read has started.</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a read observed its cancellation.</summary>
    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        Started.TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Cancelled.TrySetResult();
            throw;
        }

        return FuseReadResult.IoError;
    }

    public SafeFileHandle? GetPassthroughHandle() => null;
}
