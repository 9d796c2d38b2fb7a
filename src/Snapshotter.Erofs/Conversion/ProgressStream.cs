namespace Snapshotter.Erofs.Conversion;

/// <summary>A read-through stream that reports how many bytes passed after every read that returned some (converter and bootstrap download progress).</summary>
public sealed class ProgressStream(Stream inner, Action<long> report) : ReadThroughStream(inner)
{
    private long _read;

    public override long Length => Inner.Length;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    protected override void OnRead(int count)
    {
        _read += count;
        report(_read);
    }
}
