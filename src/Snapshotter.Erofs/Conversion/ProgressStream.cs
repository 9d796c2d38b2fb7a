namespace Snapshotter.Erofs.Conversion;

/// <summary>A read-through stream that reports how many bytes passed after every read that returned some (converter and bootstrap download progress).</summary>
public sealed class ProgressStream(Stream inner, Action<long> report) : ReadOnlyStream
{
    private long _read;

    public override long Length => inner.Length;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

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
    }

    private int Count(int n)
    {
        if (n > 0)
        {
            _read += n;
            report(_read);
        }

        return n;
    }
}
