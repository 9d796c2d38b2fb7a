using System.Runtime.InteropServices;
using Snapshotter.Erofs.Interop;

namespace Snapshotter.Erofs.Compression;

/// <summary>
/// Read-only stream decompressing zstd frames (OCI <c>tar+zstd</c> layers) through the system libzstd, with bounded
/// buffers. A stream that ends inside a frame is an <see cref="InvalidDataException"/>, never a silent short layer.
/// </summary>
internal sealed class ZstdDecompressionStream(Stream inner) : ReadOnlyStream
{
    private const int InputSize = 128 * 1024;

    private readonly SafeZstdHandle _stream = SafeZstdHandle.CreateDecompressionStream();
    private readonly byte[] _input = new byte[InputSize];
    private int _inputLength;
    private int _inputPos;
    private bool _innerDone;
    private bool _frameOpen;

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            if (_inputPos == _inputLength && !_innerDone)
            {
                _inputLength = inner.Read(_input, 0, _input.Length);
                _inputPos = 0;
                _innerDone = _inputLength == 0;
            }

            if (TryProduce(buffer, out var produced))
            {
                return produced;
            }
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_inputPos == _inputLength && !_innerDone)
            {
                _inputLength = await inner.ReadAsync(_input, cancellationToken).ConfigureAwait(false);
                _inputPos = 0;
                _innerDone = _inputLength == 0;
            }

            if (TryProduce(buffer.Span, out var produced))
            {
                return produced;
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stream.Dispose();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// Decompresses what input there is into <paramref name="buffer"/>; true with the byte count when the read can
    /// return (data, an empty buffer, or the end of the last frame), false when more input is needed.
    /// </summary>
    private bool TryProduce(Span<byte> buffer, out int produced)
    {
        produced = Decompress(buffer);
        if (produced > 0 || buffer.IsEmpty)
        {
            return true;
        }

        if (_innerDone && _inputPos == _inputLength)
        {
            return _frameOpen ? throw new InvalidDataException("zstd layer ends in the middle of a frame (truncated)") : true;
        }

        return false;
    }

    private unsafe int Decompress(Span<byte> destination)
    {
        if (_inputPos == _inputLength && !_frameOpen)
        {
            return 0;
        }

        fixed (byte* src = _input)
        fixed (byte* dst = destination)
        {
            var input = new Libzstd.ZSTD_inBuffer { Src = src, Size = (nuint)_inputLength, Pos = (nuint)_inputPos };
            var output = new Libzstd.ZSTD_outBuffer { Dst = dst, Size = (nuint)destination.Length, Pos = 0 };
            var result = Libzstd.ZSTD_decompressStream(_stream, &output, &input);
            if (Libzstd.ZSTD_isError(result) != 0)
            {
                throw new InvalidDataException($"zstd layer is corrupt: {Marshal.PtrToStringUTF8(Libzstd.ZSTD_getErrorName(result))}");
            }

            _inputPos = (int)input.Pos;

            // 0 means a frame was fully decoded and flushed; anything else means the frame goes on.
            _frameOpen = result != 0;
            return (int)output.Pos;
        }
    }
}
