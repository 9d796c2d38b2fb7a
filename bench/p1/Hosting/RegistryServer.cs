using System.Net;
using System.Net.Sockets;

namespace Snapshotter.P1.Benchmarks.Hosting;

/// <summary>Debian's docker-registry (distribution 2.8) on 127.0.0.1 over a storage directory, plain HTTP.</summary>
internal sealed class RegistryServer : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private RegistryServer(ChildProcess process, int port)
    {
        _process = process;
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
    }

    public IPEndPoint EndPoint { get; }

    public int Pid => _process.Pid;

    public static async Task<RegistryServer> StartAsync(string storage, string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        var port = FreePort();
        var config = Path.Combine(directory, "registry.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {storage}
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: 127.0.0.1:{port}
            """, cancellationToken).ConfigureAwait(false);
        var process = ChildProcess.Start("docker-registry", ["serve", config], Path.Combine(directory, "registry.log"));
        var server = new RegistryServer(process, port);
        await Waiting.ForTcpAsync(server.EndPoint, process, cancellationToken).ConfigureAwait(false);
        return server;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
