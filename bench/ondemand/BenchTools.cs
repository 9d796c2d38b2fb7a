using System.Diagnostics;
using System.Formats.Tar;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

/// <summary>Processes, files and /proc readings the on-demand benchmarks share (VM and host modes).</summary>
internal static class BenchTools
{
    /// <summary>The chunk digester the benchmark images are converted with: BENCH_DIGESTER=blake3, else sha256 (the converter's default).</summary>
    public static Snapshotter.Oci.ChunkDigester Digester =>
        Environment.GetEnvironmentVariable("BENCH_DIGESTER") == "blake3" ? Snapshotter.Oci.ChunkDigester.Blake3 : Snapshotter.Oci.ChunkDigester.Sha256;

    /// <summary>
    /// Starts <c>snapshotter mount REF MNT</c> (BENCH_SNAPSHOTTER, else the build output next to this program) and waits
    /// for its "mounted" line. BENCH_MOUNT_ARGS adds arguments, BENCH_MOUNT_ENV="K=V ..." environment (knobs under test).
    /// </summary>
    public static (Process Process, int Pid) StartMount(string reference, string mnt, string cacheDir, string domain, params string[] extraArgs)
    {
        var snapshotter = Environment.GetEnvironmentVariable("BENCH_SNAPSHOTTER") ?? Path.Combine(AppContext.BaseDirectory, "snapshotter.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { snapshotter, "mount", reference, mnt, "--cache-dir", cacheDir, "--domain", domain, "--hosts-dir", "/nonexistent", "--log-level", "warn" }
            .Concat(extraArgs)
            .Concat((Environment.GetEnvironmentVariable("BENCH_MOUNT_ARGS") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var kv in (Environment.GetEnvironmentVariable("BENCH_MOUNT_ENV") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            psi.Environment[kv[..kv.IndexOf('=')]] = kv[(kv.IndexOf('=') + 1)..];
        }

        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine("mount: " + e.Data);
            }
        };
        p.BeginErrorReadLine();
        var line = p.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("mounted", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"mount failed: {line}");
        }

        return (p, p.Id);
    }

    public static void StopMount(Process p)
    {
        Run("kill", "-TERM", p.Id.ToString());
        p.WaitForExit();
    }

    /// <summary>Timed like <c>cat FILE &gt; /dev/null</c> with a 1 MiB buffer: the reader does no other work, as curl -o /dev/null.</summary>
    public static double ReadAll(string path)
    {
        var watch = Stopwatch.StartNew();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        while (stream.Read(buffer) > 0)
        {
        }

        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Cold 4 KiB reads at random page-aligned offsets of a file (milliseconds each).</summary>
    public static List<double> RandomReads(string path, long length, int count, int seed)
    {
        var latencies = new List<double>(count);
        var random = new Random(seed);
        using var file = File.OpenHandle(path);
        var buffer = new byte[4096];
        for (var i = 0; i < count; i++)
        {
            var offset = random.NextInt64(0, length / 4096) * 4096;
            var watch = Stopwatch.StartNew();
            RandomAccess.Read(file, buffer, offset);
            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }

        return latencies;
    }

    public static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static void DropCaches() => Run("sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches");

    public static double CpuSeconds(int pid)
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
    }

    /// <summary>System (kernel) CPU seconds of a process: with <see cref="CpuSeconds"/>, the user/kernel split.</summary>
    public static double SystemCpuSeconds(int pid)
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fields[12]) / 100.0;
    }

    /// <summary>The page cache in bytes (/proc/meminfo Cached), for what a read adds to it.</summary>
    public static long PageCacheBytes()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("Cached:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>VmRSS of a process in bytes (0 once it is gone).</summary>
    public static long Rss(int pid) => Status(pid, "VmRSS:");

    /// <summary>VmHWM (peak resident set) of a process in bytes (0 once it is gone).</summary>
    public static long PeakRss(int pid) => Status(pid, "VmHWM:");

    public static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} exited {p.ExitCode}: {err}");
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static void WaitForPort(int port)
    {
        for (var i = 0; i < 600; i++)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        throw new TimeoutException("docker-registry did not start");
    }

    /// <summary>An OCI layout (tag v1) of one uncompressed tar layer made of <paramref name="entries"/> (directories end with '/').</summary>
    public static void WriteLayout(string dir, IEnumerable<(string Path, byte[]? Data)> entries)
    {
        using var layer = new MemoryStream();
        using (var tar = new TarWriter(layer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, data) in entries)
            {
                tar.WriteEntry(data is null
                    ? new PaxTarEntry(TarEntryType.Directory, path) { Mode = (UnixFileMode)0x1ED }
                    : new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0x1A4 });
            }
        }

        var layerBytes = layer.ToArray();
        Directory.CreateDirectory(Path.Combine(dir, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(dir, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        var layerDigest = Blob(dir, layerBytes);
        var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["{{{layerDigest}}}"]}}""");
        var configDigest = Blob(dir, config);
        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{config.Length}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{layerDigest}}","size":{{layerBytes.Length}}}]}""");
        var manifestDigest = Blob(dir, manifest);
        File.WriteAllText(Path.Combine(dir, "index.json"), $$$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{manifestDigest}}}","size":{{{manifest.Length}}},"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}""");
    }

    private static string Blob(string dir, byte[] bytes)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
        File.WriteAllBytes(Path.Combine(dir, "blobs", "sha256", hex), bytes);
        return "sha256:" + hex;
    }

    private static long Status(int pid, string key)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
