using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Snapshotter.KernelTests.Images;

/// <summary>
/// The real docker-registry inside the VM on 127.0.0.1, with storage that survives <see cref="Stop"/> so that a test
/// can take the registry away mid-read and bring the same content back.
/// </summary>
internal sealed class GuestRegistry : IDisposable
{
    private readonly string _config;
    private Process? _process;

    public GuestRegistry()
    {
        var dir = Directory.CreateDirectory(Path.Combine(KernelEnvironment.Scratch, "registry-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        _config = Path.Combine(dir, "config.yml");
        File.WriteAllText(_config, $"version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {dir}/data\nhttp:\n  addr: 127.0.0.1:{Port}\n");
        Start();
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public void Start()
    {
        _process = Process.Start(new ProcessStartInfo("docker-registry", ["serve", _config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (watch.Elapsed < TimeSpan.FromSeconds(60) && !_process.HasExited)
            {
                Thread.Sleep(100);
            }
        }
    }

    public void Stop()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    public void Dispose() => Stop();
}
