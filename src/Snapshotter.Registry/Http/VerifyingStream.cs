using System.Security.Cryptography;
using Snapshotter.Oci;

namespace Snapshotter.Registry.Http;

/// <summary>
/// A read-only stream over a whole blob that hashes every byte it returns and, at the end of the body, throws
/// <see cref="RegistryErrorKind.DigestMismatch"/> unless the digest (and size, when known) match. Each read must
/// make progress within the idle timeout; a broken or stalled body is resumed from the current position through
/// <c>reopen</c> a bounded number of times. Disposing it releases the HTTP response.
/// </summary>
internal sealed class VerifyingStream : ReadOnlyStream
{
    private readonly Func<long, CancellationToken, Task<(HttpResponseMessage Response, Stream Body)>> _reopen;
    private readonly int _maxResumes;
    private HttpResponseMessage _response;
    private Stream _body;
    private int _resumes;
    private readonly BlobLocator _blob;
    private readonly long? _expectedSize;
    private readonly TimeSpan _idleTimeout;
    private readonly IncrementalHash _hash;
    private CancellationTokenSource _idle = new();
    private long _position;
    private bool _verified;

    public VerifyingStream(HttpResponseMessage response, Stream body, BlobLocator blob, long? expectedSize, TimeSpan idleTimeout, int maxResumes, Func<long, CancellationToken, Task<(HttpResponseMessage Response, Stream Body)>> reopen)
    {
        _reopen = reopen;
        _maxResumes = maxResumes;
        _response = response;
        _body = body;
        _blob = blob;
        _expectedSize = expectedSize;
        _idleTimeout = idleTimeout;
        _hash = OciDigest.CreateHash(blob.Digest);
    }

    public override long Length => _expectedSize ?? throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        int read = _body.Read(buffer);
        return Account(buffer[..read]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (!_idle.TryReset())
            {
                _idle.Dispose();
                _idle = new CancellationTokenSource();
            }

            _idle.CancelAfter(_idleTimeout);
            RegistryException failure;
            using (cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _idle))
            {
                try
                {
                    int read = await _body.ReadAsync(buffer, _idle.Token).ConfigureAwait(false);

                    // A body that ends before the known size is a broken connection, not the end of the blob.
                    if (read > 0 || _expectedSize is not { } size || _position >= size)
                    {
                        return Account(buffer.Span[..read]);
                    }

                    failure = new RegistryException(RegistryErrorKind.Unavailable, $"GET blob {_blob}: the answer ended at byte {_position} of {size}");
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = new RegistryException(RegistryErrorKind.Timeout, $"GET blob {_blob}: no data for {_idleTimeout.TotalSeconds:0.###} s at byte {_position}", ex);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    failure = new RegistryException(RegistryErrorKind.Unavailable, $"GET blob {_blob}: the connection broke at byte {_position}: {ex.Message}", ex);
                }
            }

            if (_resumes++ >= _maxResumes)
            {
                throw failure;
            }

            _body.Dispose();
            _response.Dispose();
            (_response, _body) = await _reopen(_position, cancellationToken).ConfigureAwait(false);
        }
    }

    private int Account(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0)
        {
            _hash.AppendData(data);
            _position += data.Length;
            if (_expectedSize is { } size && _position > size)
            {
                throw new RegistryException(RegistryErrorKind.DigestMismatch, $"GET blob {_blob}: more than the expected {size} bytes");
            }

            return data.Length;
        }

        if (!_verified)
        {
            _verified = true;
            if (_expectedSize is { } size && _position != size)
            {
                throw new RegistryException(RegistryErrorKind.Unavailable, $"GET blob {_blob}: the answer ended at byte {_position} of {size}");
            }

            Span<byte> hash = stackalloc byte[64];
            int written = _hash.GetHashAndReset(hash);
            string actual = OciDigest.Format(_blob.Digest, hash[..written]);
            if (actual != _blob.Digest)
            {
                throw new RegistryException(RegistryErrorKind.DigestMismatch, $"blob {_blob} hashes to {actual}");
            }
        }

        return 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _body.Dispose();
            _response.Dispose();
            _hash.Dispose();
            _idle.Dispose();
        }

        base.Dispose(disposing);
    }
}
