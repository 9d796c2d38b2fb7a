using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Snapshotter.Rpc.Tests;

public sealed class GrpcKestrelExtensionsTests
{
    private static string TempSocketPath() => Path.Combine(Path.GetTempPath(), $"rpc-kestrel-{Guid.NewGuid():N}.sock");

    [Fact]
    public void ListenGrpcUnixSocket_StaleSocketFile_RemovesItAndConfiguresHttp2()
    {
        // .NET unlinks a bound socket's file on Dispose, so move it away first to leave a real stale socket inode.
        string path = TempSocketPath();
        string bound = TempSocketPath();
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(bound));
            File.Move(bound, path);
        }

        Assert.True(File.Exists(path));
        var options = new KestrelServerOptions();

        options.ListenGrpcUnixSocket(path);

        Assert.False(File.Exists(path));
        Assert.Null(options.Limits.MaxRequestBodySize);
        Assert.Null(options.Limits.MinRequestBodyDataRate);
    }

    [Fact]
    public void ListenGrpcUnixSocket_ServerStillListening_ThrowsAndKeepsSocket()
    {
        string path = TempSocketPath();
        using var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        live.Bind(new UnixDomainSocketEndPoint(path));
        live.Listen();
        try
        {
            var ex = Assert.Throws<InvalidOperationException>(() => new KestrelServerOptions().ListenGrpcUnixSocket(path));

            Assert.Contains(path, ex.Message);
            Assert.True(File.Exists(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ListenGrpcUnixSocket_MissingParentDirectory_CreatesIt()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"rpc-dir-{Guid.NewGuid():N}");
        try
        {
            new KestrelServerOptions().ListenGrpcUnixSocket(Path.Combine(directory, "s.sock"));

            Assert.True(Directory.Exists(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
