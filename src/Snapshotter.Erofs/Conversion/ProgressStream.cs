namespace Snapshotter.Erofs.Conversion;

/// <summary>A read-through stream that reports how many bytes passed.</summary>
internal sealed class ProgressStream(Stream inner, Action<long> report) : ReadOnlyStream
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

    private int Count(int n)
    {
        _read += n;
        report(_read);
        return n;
    }
}
