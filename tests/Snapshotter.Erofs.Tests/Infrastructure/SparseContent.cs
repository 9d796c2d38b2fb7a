namespace Snapshotter.Erofs.Tests.Infrastructure;

/// <summary>A read-only stream of <see cref="Length"/> bytes: mostly zeros with a few marked regions (a "sparse" big file without 300 MiB in RAM).</summary>
internal sealed class SparseContent(long length) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _position; set => _position = value; }

    public static byte ByteAt(long offset)
    {
        // Data in the first 64 KiB, around 100 MiB and in the last 5000 bytes; zeros elsewhere.
        bool data = offset < 65536 || (offset >= 100L << 20 && offset < (100L << 20) + 12345) || offset >= (300L << 20) - 5000;
        return data ? (byte)((offset * 31 + 7) % 251) : (byte)0;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = (int)Math.Min(buffer.Length, length - _position);
        for (int i = 0; i < n; i++)
        {
            buffer[i] = ByteAt(_position + i);
        }

        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
