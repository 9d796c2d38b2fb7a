using System.Diagnostics;
using System.Formats.Tar;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Snapshotter.Erofs;
using Snapshotter.Erofs.Conversion;
using Snapshotter.Registry;

// On-demand read benchmark (issue: cache daemon). Inside one VM run: a 256 MiB file converted (zstd, 1 MiB chunks)
// into a loopback docker-registry; cold sequential read through `snapshotter mount` vs the same file once cached
// (page cache dropped) vs curl downloading the data blob; cold 4 KiB random read latency; daemon RSS.
const int FileMiB = 256;
var scratch = args.Length > 0 ? args[0] : "/run/scratch";
var snapshotter = Path.Combine(AppContext.BaseDirectory, "snapshotter.dll");

var port = FreePort();
var regDir = Directory.CreateDirectory(Path.Combine(scratch, "bench-registry")).FullName;
File.WriteAllText(Path.Combine(regDir, "config.yml"), $"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {regDir}/data\nhttp:\n  addr: 127.0.0.1:{port}\n");
using var registry = Process.Start(new ProcessStartInfo("docker-registry", ["serve", Path.Combine(regDir, "config.yml")]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
WaitForPort(port);
var reference = $"127.0.0.1:{port}/bench/big:lazy";

Console.Error.WriteLine("building and converting the image...");
var layout = Directory.CreateDirectory(Path.Combine(scratch, "bench-src")).FullName;
var data = new byte[FileMiB * 1024 * 1024];
new Random(7).NextBytes(data.AsSpan(0, data.Length / 2)); // half random, half zeros-then-text: realistic-ish compressibility
for (var i = data.Length / 2; i < data.Length; i += 64)
{
    Encoding.ASCII.GetBytes($"line {i:D12} of a log-like text file\n").CopyTo(data.AsSpan(i));
}

WriteLayout(layout, data);
using (var client = new RegistryClient(new RegistryClientOptions { HostsDirectory = null }))
{
    var result = await ImageConverter.ConvertAsync(
        new OciLayout(layout, "v1"),
        new RegistryImageSink(client, Snapshotter.Registry.ImageReference.Parse(reference)),
        new ImageBuildOptions { Compressor = ChunkCompressor.Zstd, ChunkSize = 1024 * 1024 },
        workDirectory: scratch);
    var blob = result.DataBlobs[0];

    // Baseline: curl downloading the whole data blob from the same registry.
    var curl = Stopwatch.StartNew();
    Run("curl", "-sf", "-o", "/dev/null", $"http://127.0.0.1:{port}/v2/bench/big/blobs/{blob.Digest}");
    var curlSeconds = curl.Elapsed.TotalSeconds;
    var curlMBs = blob.Size / 1e6 / curlSeconds;

    // Cold sequential read through the lazy mount.
    var mnt = Directory.CreateDirectory(Path.Combine("/tmp", "bench-mnt")).FullName;
    var (mount, pid) = StartMount(reference, mnt, Path.Combine(scratch, "bench-cache-seq"), "seq");
    long peakRss = 0;
    using var sampler = new Timer(_ => peakRss = Math.Max(peakRss, Rss(pid)), null, 0, 100);
    var (coldSeconds, coldHash) = ReadAll(Path.Combine(mnt, "big.bin"));
    Run("sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches");
    var (cachedSeconds, cachedHash) = ReadAll(Path.Combine(mnt, "big.bin"));
    var expectedHash = Convert.ToHexStringLower(SHA256.HashData(data));
    var rssAfter = Rss(pid);
    StopMount(mount);

    // Cold 4 KiB random reads on a fresh cache (new domain, so nothing is shared with the run above).
    var (mount2, _) = StartMount(reference, mnt, Path.Combine(scratch, "bench-cache-rand"), "rand");
    var latencies = new List<double>();
    var random = new Random(11);
    using (var file = File.OpenHandle(Path.Combine(mnt, "big.bin")))
    {
        var buffer = new byte[4096];
        for (var i = 0; i < 200; i++)
        {
            var offset = random.NextInt64(0, data.Length / 4096) * 4096;
            var watch = Stopwatch.StartNew();
            RandomAccess.Read(file, buffer, offset);
            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }
    }

    StopMount(mount2);
    latencies.Sort();
    var mb = data.Length / 1e6;
    Console.WriteLine($"| measurement | value |");
    Console.WriteLine($"|---|---:|");
    Console.WriteLine($"| file size | {FileMiB} MiB ({blob.Size / 1e6:F1} MB stored, zstd) |");
    Console.WriteLine($"| curl full blob download | {curlMBs:F1} MB/s ({curlSeconds:F2} s) |");
    Console.WriteLine($"| cold sequential read through the lazy mount | {mb / coldSeconds:F1} MB/s ({coldSeconds:F2} s) |");
    Console.WriteLine($"| cold sequential / curl (stored bytes per second) | {blob.Size / 1e6 / coldSeconds / curlMBs:F2}x |");
    Console.WriteLine($"| fully cached sequential read (page cache dropped) | {mb / cachedSeconds:F1} MB/s ({cachedSeconds:F2} s) |");
    Console.WriteLine($"| cold 4 KiB random read latency p50 / p99 (n={latencies.Count}) | {latencies[latencies.Count / 2]:F2} ms / {latencies[(int)(latencies.Count * 0.99)]:F2} ms |");
    Console.WriteLine($"| daemon (`snapshotter mount`) peak RSS during the sequential test / after | {peakRss / 1048576.0:F0} MiB / {rssAfter / 1048576.0:F0} MiB |");
    Console.WriteLine($"| content check | {(coldHash == expectedHash && cachedHash == expectedHash ? "sha256 matches" : "MISMATCH")} |");
}

registry.Kill();
return 0;

static (Process Process, int Pid) StartMount(string reference, string mnt, string cacheDir, string domain)
{
    var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "snapshotter.dll"), "mount", reference, mnt, "--cache-dir", cacheDir, "--domain", domain, "--hosts-dir", "/nonexistent", "--log-level", "warn" })
    {
        psi.ArgumentList.Add(a);
    }

    var p = Process.Start(psi)!;
    p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("mount: " + e.Data); };
    p.BeginErrorReadLine();
    var line = p.StandardOutput.ReadLine();
    if (line is null || !line.StartsWith("mounted", StringComparison.Ordinal))
    {
        throw new InvalidOperationException($"mount failed: {line}");
    }

    return (p, p.Id);
}

static void StopMount(Process p)
{
    Run("kill", "-TERM", p.Id.ToString());
    p.WaitForExit();
}

static (double Seconds, string Hash) ReadAll(string path)
{
    var watch = Stopwatch.StartNew();
    using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
    var buffer = new byte[1 << 20];
    int n;
    while ((n = stream.Read(buffer)) > 0)
    {
        sha.AppendData(buffer, 0, n);
    }

    return (watch.Elapsed.TotalSeconds, Convert.ToHexStringLower(sha.GetHashAndReset()));
}

static long Rss(int pid)
{
    try
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
    catch (IOException)
    {
        return 0;
    }
}

static void Run(string file, params string[] args)
{
    using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
    var err = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0)
    {
        throw new InvalidOperationException($"{file} exited {p.ExitCode}: {err}");
    }
}

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

static void WaitForPort(int port)
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

static void WriteLayout(string dir, byte[] data)
{
    using var layer = new MemoryStream();
    using (var tar = new TarWriter(layer, TarEntryFormat.Pax, leaveOpen: true))
    {
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "big.bin") { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0x1A4 });
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

static string Blob(string dir, byte[] bytes)
{
    var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
    File.WriteAllBytes(Path.Combine(dir, "blobs", "sha256", hex), bytes);
    return "sha256:" + hex;
}
