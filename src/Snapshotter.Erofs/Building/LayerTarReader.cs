using System.Buffers;
using System.Text;

namespace Snapshotter.Erofs.Building;

/// <summary>
/// A streaming reader of OCI layer tars (ustar, PAX <c>x</c>/<c>g</c>, GNU <c>L</c>/<c>K</c>, base-256
/// numbers). Written here rather than using System.Formats.Tar because PAX <c>SCHILY.xattr.*</c> values
/// are binary (e.g. <c>security.capability</c>) and must survive byte-exact, and because every
/// header size is bounded: a hostile header cannot make us allocate more than <see cref="MaxHeaderData"/>.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "_current is a view of the caller's tar stream and holds nothing to release")]
internal sealed class LayerTarReader(Stream stream)
{
    public const int MaxHeaderData = 1024 * 1024;
    private const int BlockSize = 512;

    private readonly byte[] _block = new byte[BlockSize];
    private EntryStream? _current;
    private bool _ended;

    public async ValueTask<LayerTarEntry?> NextAsync(CancellationToken cancellationToken = default)
    {
        string? longName = null, longLink = null;
        Dictionary<string, byte[]>? pax = null;
        while (true)
        {
            if (_current is not null)
            {
                await _current.SkipRestAsync(cancellationToken).ConfigureAwait(false);
                _current = null;
            }

            if (_ended || !await ReadBlockAsync(cancellationToken).ConfigureAwait(false))
            {
                _ended = true;
                return null;
            }

            if (_block.AsSpan().IndexOfAnyExcept((byte)0) < 0)
            {
                // End-of-archive marker; whatever follows is padding.
                _ended = true;
                return null;
            }

            VerifyChecksum();
            byte type = _block[156];
            long size = ParseNumber(_block.AsSpan(124, 12), "size");
            if (size < 0)
            {
                throw new InvalidImageException("tar header: negative size");
            }

            switch (type)
            {
                case (byte)'x':
                    pax = ParsePax(await ReadHeaderDataAsync(size, "PAX header", cancellationToken).ConfigureAwait(false));
                    continue;
                case (byte)'g':
                    _ = await ReadHeaderDataAsync(size, "PAX global header", cancellationToken).ConfigureAwait(false);
                    continue;
                case (byte)'L':
                    longName = CString(await ReadHeaderDataAsync(size, "GNU long name", cancellationToken).ConfigureAwait(false));
                    continue;
                case (byte)'K':
                    longLink = CString(await ReadHeaderDataAsync(size, "GNU long link", cancellationToken).ConfigureAwait(false));
                    continue;
            }

            string name = longName ?? HeaderName();
            string link = longLink ?? CString(_block.AsSpan(157, 100));
            long mtime = ParseNumber(_block.AsSpan(136, 12), "mtime");
            uint nsec = 0;
            uint uid = (uint)ParseNumber(_block.AsSpan(108, 8), "uid");
            uint gid = (uint)ParseNumber(_block.AsSpan(116, 8), "gid");
            List<KeyValuePair<string, byte[]>>? xattrs = null;
            if (pax is not null)
            {
                foreach ((string key, byte[] value) in pax)
                {
                    switch (key)
                    {
                        case "path":
                            name = Encoding.UTF8.GetString(value);
                            break;
                        case "linkpath":
                            link = Encoding.UTF8.GetString(value);
                            break;
                        case "size":
                            size = ParseDecimal(value, key);
                            break;
                        case "uid":
                            uid = (uint)ParseDecimal(value, key);
                            break;
                        case "gid":
                            gid = (uint)ParseDecimal(value, key);
                            break;
                        case "mtime":
                            (mtime, nsec) = ParseTime(value);
                            break;
                        default:
                            if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal) && key.Length > "SCHILY.xattr.".Length)
                            {
                                (xattrs ??= []).Add(new(key["SCHILY.xattr.".Length..], value));
                            }
                            else if (key.StartsWith("GNU.sparse.", StringComparison.Ordinal))
                            {
                                throw new InvalidImageException($"tar entry '{name}': GNU sparse files are not supported");
                            }

                            break;
                    }
                }
            }

            xattrs?.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            _current = new EntryStream(stream, size);
            return new LayerTarEntry
            {
                Name = name,
                Type = type,
                LinkName = link,
                Size = size,
                Mode = (uint)ParseNumber(_block.AsSpan(100, 8), "mode") & 0xFFF,
                Ownership = new InodeOwnership(uid, gid, mtime, nsec),
                DeviceMajor = (uint)ParseNumber(_block.AsSpan(329, 8), "devmajor"),
                DeviceMinor = (uint)ParseNumber(_block.AsSpan(337, 8), "devminor"),
                Xattrs = xattrs,
                Data = _current,
            };
        }
    }

    private string HeaderName()
    {
        string name = CString(_block.AsSpan(0, 100));

        // POSIX ustar ("ustar\0") splits long names into prefix + name; GNU ("ustar  ") does not.
        bool posix = _block.AsSpan(257, 6).SequenceEqual("ustar\0"u8);
        string prefix = posix ? CString(_block.AsSpan(345, 155)) : string.Empty;
        return prefix.Length > 0 ? prefix + "/" + name : name;
    }

    private async ValueTask<bool> ReadBlockAsync(CancellationToken cancellationToken)
    {
        int n = await stream.ReadAtLeastAsync(_block, BlockSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (n == 0)
        {
            return false;
        }

        if (n < BlockSize)
        {
            throw new InvalidImageException("tar: truncated header block");
        }

        return true;
    }

    private async ValueTask<byte[]> ReadHeaderDataAsync(long size, string what, CancellationToken cancellationToken)
    {
        if (size > MaxHeaderData)
        {
            throw new InvalidImageException($"tar: {what} of {size} bytes exceeds the {MaxHeaderData}-byte limit");
        }

        byte[] data = new byte[size];
        await stream.ReadExactlyAsync(data, cancellationToken).ConfigureAwait(false);
        int padding = (int)((BlockSize - (size % BlockSize)) % BlockSize);
        if (padding > 0)
        {
            await stream.ReadExactlyAsync(_block.AsMemory(0, padding), cancellationToken).ConfigureAwait(false);
        }

        return data;
    }

    private void VerifyChecksum()
    {
        long stored = ParseNumber(_block.AsSpan(148, 8), "checksum");
        long unsigned = 0, signed = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : _block[i];
            unsigned += b;
            signed += (sbyte)b;
        }

        if (stored != unsigned && stored != signed)
        {
            throw new InvalidImageException("tar: header checksum mismatch (not a tar stream, or corrupt)");
        }
    }

    private static Dictionary<string, byte[]> ParsePax(byte[] data)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        int pos = 0;
        while (pos < data.Length)
        {
            int space = Array.IndexOf(data, (byte)' ', pos);
            if (space < 0 || !int.TryParse(data.AsSpan(pos, space - pos), out int length) || length <= space - pos || pos + length > data.Length || data[pos + length - 1] != '\n')
            {
                throw new InvalidImageException("tar: malformed PAX record");
            }

            int equals = Array.IndexOf(data, (byte)'=', space + 1, pos + length - space - 1);
            if (equals < 0)
            {
                throw new InvalidImageException("tar: PAX record without '='");
            }

            string key = Encoding.UTF8.GetString(data, space + 1, equals - space - 1);
            result[key] = data[(equals + 1)..(pos + length - 1)];
            pos += length;
        }

        return result;
    }

    private static long ParseNumber(ReadOnlySpan<byte> field, string what)
    {
        if ((field[0] & 0x80) != 0)
        {
            // GNU base-256: big-endian two's complement in the remaining bits.
            long value = field[0] & 0x3F;
            bool negative = (field[0] & 0x40) != 0;
            for (int i = 1; i < field.Length; i++)
            {
                if (value > (long.MaxValue >> 8))
                {
                    throw new InvalidImageException($"tar: {what} overflows");
                }

                value = (value << 8) | field[i];
            }

            return negative ? -value : value;
        }

        long result = 0;
        foreach (byte b in field)
        {
            if (b is 0 or (byte)' ')
            {
                if (result != 0)
                {
                    break;
                }

                continue;
            }

            if (b is < (byte)'0' or > (byte)'7' || result > (long.MaxValue >> 3))
            {
                throw new InvalidImageException($"tar: invalid {what} field");
            }

            result = (result << 3) | (uint)(b - '0');
        }

        return result;
    }

    private static long ParseDecimal(byte[] value, string key) =>
        long.TryParse(value, out long result) && result >= 0 ? result : throw new InvalidImageException($"tar: invalid PAX {key}");

    private static (long Seconds, uint Nanoseconds) ParseTime(byte[] value)
    {
        string text = Encoding.ASCII.GetString(value);
        int dot = text.IndexOf('.');
        string whole = dot < 0 ? text : text[..dot];
        if (!long.TryParse(whole, out long seconds))
        {
            throw new InvalidImageException("tar: invalid PAX mtime");
        }

        uint nanos = 0;
        if (dot >= 0)
        {
            string fraction = (text[(dot + 1)..] + "000000000")[..9];
            if (!uint.TryParse(fraction, out nanos))
            {
                throw new InvalidImageException("tar: invalid PAX mtime");
            }

            if (text.StartsWith('-') && nanos != 0)
            {
                seconds--;
                nanos = 1_000_000_000 - nanos;
            }
        }

        return (seconds, nanos);
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? field : field[..nul]);
    }

    /// <summary>The current entry's data; skipping the rest also consumes the 512-byte padding.</summary>
    private sealed class EntryStream : Stream
    {
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2213:Disposable fields should be disposed", Justification = "the tar stream belongs to the reader's caller; an entry is a window of it")]
        private readonly Stream _inner;
        private readonly long _size;
        private long _remaining;

        public EntryStream(Stream inner, long size)
        {
            _inner = inner;
            _size = size;
            _remaining = size;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _size;

        public override long Position { get => _size - _remaining; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_remaining == 0)
            {
                return 0;
            }

            int n = _inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
            if (n == 0)
            {
                throw new InvalidImageException("tar: entry data truncated");
            }

            _remaining -= n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_remaining == 0)
            {
                return 0;
            }

            int n = await _inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new InvalidImageException("tar: entry data truncated");
            }

            _remaining -= n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public async ValueTask SkipRestAsync(CancellationToken cancellationToken)
        {
            long padding = (BlockSize - (_size % BlockSize)) % BlockSize;
            long toSkip = _remaining + padding;
            _remaining = 0;
            byte[] scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                while (toSkip > 0)
                {
                    int n = await _inner.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, toSkip)), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw new InvalidImageException("tar: entry data truncated");
                    }

                    toSkip -= n;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
