using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Snapshotter.Registry.Tests.Infrastructure;

/// <summary>
/// A real Debian <c>docker-registry</c> (distribution 2.8.2) on 127.0.0.1 with filesystem storage in a temp dir,
/// optionally with htpasswd or token auth and TLS. Killed and deleted on dispose.
/// </summary>
internal sealed class RegistryProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _dir;
    private readonly StringBuilder _log;

    private RegistryProcess(Process process, TempDirectory dir, int port, StringBuilder log)
    {
        _process = process;
        _dir = dir;
        Port = port;
        _log = log;
    }

    public int Port { get; }

    /// <summary>host:port as used in image references.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<RegistryProcess> StartAsync(RegistryProcessOptions? options = null)
    {
        options ??= new RegistryProcessOptions();
        var dir = new TempDirectory("docker-registry");
        int port = options.Port ?? FreePort.Get();
        var yaml = new StringBuilder();
        yaml.AppendLine("version: 0.1");
        yaml.AppendLine($"log:\n  level: warn\n  accesslog:\n    disabled: {(options.AccessLog ? "false" : "true")}");
        yaml.AppendLine($"storage:\n  filesystem:\n    rootdirectory: {options.StorageDirectory ?? dir.Combine("data")}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false");
        yaml.AppendLine($"http:\n  addr: 127.0.0.1:{port}\n  secret: test-upload-secret");
        if (options.TlsCertificatePath is not null)
        {
            yaml.AppendLine($"  tls:\n    certificate: {options.TlsCertificatePath}\n    key: {options.TlsKeyPath}");
            if (options.TlsClientCaPath is not null)
            {
                // distribution then requires and verifies a client certificate (tls.RequireAndVerifyClientCert).
                yaml.AppendLine($"    clientcas:\n      - {options.TlsClientCaPath}");
            }
        }

        if (options.HtpasswdPath is not null)
        {
            yaml.AppendLine($"auth:\n  htpasswd:\n    realm: test-realm\n    path: {options.HtpasswdPath}");
        }
        else if (options.Token is { } token)
        {
            yaml.AppendLine($"auth:\n  token:\n    realm: {token.Realm}\n    service: {token.Service}\n    issuer: {token.Issuer}\n    rootcertbundle: {token.RootCertificateBundlePath}");
        }

        string config = dir.Combine("config.yml");
        await File.WriteAllTextAsync(config, yaml.ToString());
        var log = new StringBuilder();
        var start = new ProcessStartInfo("docker-registry", ["serve", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new RegistryProcess(process, dir, port, log);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                string output = registry.Log;
                await registry.DisposeAsync();
                throw new InvalidOperationException($"docker-registry exited with {process.ExitCode}: {output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return registry;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(50);
            }
        }
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        _dir.Dispose();
    }
}
