namespace Snapshotter.Fuse.Session;

/// <summary>
/// One device reader: its own /dev/fuse fd (the session fd or a FUSE_DEV_IOC_CLONE of it; replies go to the fd
/// that read the request), a request buffer and a reply buffer for everything but READ data.
/// </summary>
internal sealed class FuseDeviceReader(int index, SafeFdHandle device, int requestBufferSize, int replyBufferSize) : IDisposable
{
    public int Index { get; } = index;

    public SafeFdHandle Device { get; } = device;

    public NativeBuffer Request { get; } = new(requestBufferSize);

    public NativeBuffer Reply { get; } = new(replyBufferSize);

    public Thread? Thread { get; set; }

    public void Dispose()
    {
        ((IDisposable)Request).Dispose();
        ((IDisposable)Reply).Dispose();
    }
}
