using System.Net.Sockets;
using System.Text;

namespace Snapshotter.P1.Benchmarks.Proxy;

internal sealed partial class ThrottlingProxy
{
    /// <summary>One proxied client connection: two throttled pumps, and an HTTP/1.1 request parser on the way up.</summary>
    private sealed class Connection(ThrottlingProxy proxy, int id, Socket client)
    {
        private readonly Socket _server = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        private readonly CancellationTokenSource _closed = CancellationTokenSource.CreateLinkedTokenSource(proxy._stop.Token);
        private readonly MemoryStream _header = new();
        private RequestRecord? _current;
        private long _bodyToSkip;

        public async Task RunAsync()
        {
            try
            {
                await _server.ConnectAsync(proxy._upstream, _closed.Token).ConfigureAwait(false);
                var up = PumpAsync(client, _server, proxy._up, upward: true);
                var down = PumpAsync(_server, client, proxy._down, upward: false);
                await Task.WhenAll(up, down).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
            {
                // The peer went away or the proxy was reset.
            }
            finally
            {
                proxy.Forget(id);
                Close();
            }
        }

        public void Close()
        {
            try
            {
                _closed.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }

            client.Dispose();
            _server.Dispose();
        }

        private async Task PumpAsync(Socket from, Socket to, TokenBucket bucket, bool upward)
        {
            var buffer = new byte[64 * 1024];
            var token = _closed.Token;
            while (true)
            {
                var n = await from.ReceiveAsync(buffer.AsMemory(0, proxy.ChunkSize(bucket)), SocketFlags.None, token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                await bucket.TakeAsync(n, token).ConfigureAwait(false);
                if (upward)
                {
                    ParseRequests(buffer.AsSpan(0, n));
                }

                for (var sent = 0; sent < n;)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None, token).ConfigureAwait(false);
                }

                if (upward)
                {
                    proxy.CountUp(n);
                }
                else
                {
                    proxy.CountDown(n);
                    if (Volatile.Read(ref _current) is { } request)
                    {
                        request.ResponseBytes += n;
                        request.Finished = Now();
                    }
                }
            }

            to.Shutdown(SocketShutdown.Send);
        }

        /// <summary>Finds request headers in the client's bytes (skipping request bodies by Content-Length).</summary>
        private void ParseRequests(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                if (_bodyToSkip > 0)
                {
                    var skip = (int)Math.Min(_bodyToSkip, data.Length);
                    _bodyToSkip -= skip;
                    data = data[skip..];
                    continue;
                }

                var before = (int)_header.Length;
                _header.Write(data);
                var buffered = _header.GetBuffer().AsSpan(0, (int)_header.Length);
                var end = buffered.IndexOf("\r\n\r\n"u8);
                if (end < 0)
                {
                    if (_header.Length > 64 * 1024)
                    {
                        _header.SetLength(0); // not HTTP as we know it: stop tracing this header
                    }

                    return;
                }

                var consumed = end + 4 - before;
                OnHeader(Encoding.ASCII.GetString(buffered[..end]));
                _header.SetLength(0);
                data = data[consumed..];
            }
        }

        private void OnHeader(string header)
        {
            var lines = header.Split("\r\n");
            var parts = lines[0].Split(' ');
            string? range = null;
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    continue;
                }

                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (name.Equals("Range", StringComparison.OrdinalIgnoreCase))
                {
                    range = value;
                }
                else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && long.TryParse(value, out var length))
                {
                    _bodyToSkip = length;
                }
            }

            var request = new RequestRecord(id, Now(), parts[0], parts.Length > 1 ? parts[1] : string.Empty, range);
            Volatile.Write(ref _current, request);
            proxy.Record(request);
        }
    }
}
