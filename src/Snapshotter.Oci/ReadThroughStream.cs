namespace Snapshotter.Oci;

/// <summary>
/// A forward-only pass-through over another stream that tells the subclass how many bytes each read returned
/// (<see cref="OnRead"/>, never for a read at the end): progress reports and byte counters. Disposing it disposes the
/// inner stream.
/// </summary>
public abstract class ReadThroughStream(Stream inner) : ReadOnlyStream
{
    /// <summary>The stream read through.</summary>
    protected Stream Inner => inner;

    public override int Read(Span<byte> buffer) => Passed(inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Passed(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    /// <summary>Called after every read that returned <paramref name="count"/> (at least 1) bytes.</summary>
    protected abstract void OnRead(int count);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    private int Passed(int count)
    {
        if (count > 0)
        {
            OnRead(count);
        }

        return count;
    }
}
