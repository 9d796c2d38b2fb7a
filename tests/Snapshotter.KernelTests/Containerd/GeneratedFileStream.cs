namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// A read-only, seekable stream of <see cref="Length"/> bytes made by <see cref="Fill"/>: a big file's content without
/// holding it in memory. Every 64 KiB segment starts with its own index, so no two chunks of 64 KiB or more are equal (the
/// converter would deduplicate them) while each chunk stays incompressible (the blob stays as big as the file).
/// </summary>
internal sealed class GeneratedFileStream(long length, int seed) : Stream
{
    public const int SegmentSize = 64 * 1024;
    private const int PatternSize = 1024 * 1024;
    private readonly byte[] _pattern = Pattern(seed);
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = Math.Clamp(value, 0, length);
    }

    /// <summary>The bytes at [<paramref name="offset"/>, +<paramref name="destination"/>.Length) of the file.</summary>
    public void Fill(long offset, Span<byte> destination)
    {
        for (var i = 0; i < destination.Length;)
        {
            var p = offset + i;
            var inPattern = (int)(p % PatternSize);
            var n = Math.Min(destination.Length - i, PatternSize - inPattern);
            _pattern.AsSpan(inPattern, n).CopyTo(destination[i..]);
            i += n;
        }

        // Stamp the segment indexes that fall into the range.
        Span<byte> stamp = stackalloc byte[8];
        for (var segment = offset / SegmentSize; segment * SegmentSize < offset + destination.Length; segment++)
        {
            BitConverter.TryWriteBytes(stamp, segment);
            for (var k = 0; k < 8; k++)
            {
                var at = segment * SegmentSize + k - offset;
                if (at >= 0 && at < destination.Length)
                {
                    destination[(int)at] = stamp[k];
                }
            }
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, length - _position);
        if (n <= 0)
        {
            return 0;
        }

        Fill(_position, buffer[..n]);
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private static byte[] Pattern(int seed)
    {
        var pattern = new byte[PatternSize];
        new Random(seed).NextBytes(pattern);
        return pattern;
    }
}
