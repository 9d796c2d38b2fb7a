using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Snapshotter.Registry.Benchmarks;

/// <summary>Debian's docker-registry on 127.0.0.1 with temp filesystem storage, killed on dispose.</summary>
internal sealed class LoopbackRegistry : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private LoopbackRegistry(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Host = $"127.0.0.1:{port}";
    }

    public string Host { get; }

    public static async Task<LoopbackRegistry> StartAsync()
    {
        string dir = Directory.CreateTempSubdirectory("bench-registry-").FullName;
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        string config = Path.Combine(dir, "config.yml");
        await File.WriteAllTextAsync(config, $"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {dir}/data\nhttp:\n  addr: 127.0.0.1:{port}\n");
        Process process = Process.Start(new ProcessStartInfo("docker-registry", ["serve", config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, port);
                return new LoopbackRegistry(process, dir, port);
            }
            catch (SocketException) when (watch.Elapsed < TimeSpan.FromSeconds(15) && !process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
