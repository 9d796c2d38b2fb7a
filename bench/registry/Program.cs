using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Snapshotter.Oci;

// Range-read throughput of RegistryClient against a loopback docker-registry, compared with curl fetching the
// same 1 MiB ranges in the same run. Usage: dotnet run -c Release -- [--blob-mib 64] [--reads 256] [--rounds 3] [--output FILE]
namespace Snapshotter.Registry.Benchmarks;

internal static class Program
{
    private const int RangeSize = 1024 * 1024;

    public static async Task<int> Main(string[] args)
    {
        int blobMiB = IntArg(args, "--blob-mib", 64);
        int reads = IntArg(args, "--reads", 256);
        int rounds = IntArg(args, "--rounds", 3);
        string? output = StringArg(args, "--output");

        using var registry = await LoopbackRegistry.StartAsync();
        var options = new RegistryClientOptions { HostsDirectory = null, DockerConfigPath = "/nonexistent/config.json" };
        using var client = new RegistryClient(options);
        byte[] blob = new byte[blobMiB * RangeSize];
        new Random(1).NextBytes(blob);
        BlobLocator locator = ImageReference.Parse($"{registry.Host}/bench/blob").Blob(OciDigest.Compute(blob));
        await client.PushBlobAsync(locator, new MemoryStream(blob));
        string url = $"http://{registry.Host}/v2/bench/blob/blobs/{locator.Digest}";

        long[] sequential = Enumerable.Range(0, reads).Select(i => (long)(i % blobMiB) * RangeSize).ToArray();
        long[] random = sequential.ToArray();
        new Random(2).Shuffle(random);

        // Warm up (JIT, connections) and check the bytes once.
        byte[] check = new byte[RangeSize];
        for (int i = 0; i < 16; i++)
        {
            long offset = random[i];
            await client.ReadAsync(locator, offset, check);
            if (!blob.AsSpan((int)offset, RangeSize).SequenceEqual(check))
            {
                throw new InvalidOperationException("benchmark read returned wrong bytes");
            }
        }

        await RunCurlAsync(url, random[..16], 1);
        using var rawClient = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 32 });
        await RunRawHttpClientAsync(rawClient, url, random[..16], 1);

        var results = new List<Row>();
        foreach ((string pattern, long[] offsets) in new[] { ("sequential", sequential), ("random", random) })
        {
            foreach (int concurrency in new[] { 1, 16 })
            {
                var ours = new List<double>();
                var curl = new List<double>();
                var raw = new List<double>();
                var ratios = new List<double>();
                var allocs = new List<double>();
                var rawAllocs = new List<double>();
                for (int round = 0; round < rounds; round++)
                {
                    // Interleave (alternating who goes first) so all see the same machine load; the ratio is per round.
                    double oursRate = 0;
                    double curlRate = 0;
                    for (int turn = 0; turn < 2; turn++)
                    {
                        if ((turn + round) % 2 == 0)
                        {
                            (double seconds, long allocated) = await RunClientAsync(client, locator, offsets, concurrency);
                            oursRate = reads / seconds;
                            allocs.Add((double)allocated / reads);
                        }
                        else
                        {
                            curlRate = reads / await RunCurlAsync(url, offsets, concurrency);
                        }
                    }

                    ours.Add(oursRate);
                    curl.Add(curlRate);
                    ratios.Add(oursRate / curlRate);
                    (double rawSeconds, long rawAllocated) = await RunRawHttpClientAsync(rawClient, url, offsets, concurrency);
                    raw.Add(reads / rawSeconds);
                    rawAllocs.Add((double)rawAllocated / reads);
                }

                var row = new Row(pattern, concurrency, Median(ours), Median(curl), Median(raw), Median(ratios), Median(allocs), Median(rawAllocs));
                results.Add(row);
                Console.WriteLine($"{pattern,-10} x{concurrency,-2}  client {row.ClientMiBs,8:F1} MiB/s  curl {row.CurlMiBs,8:F1} MiB/s  raw HttpClient {row.RawMiBs,8:F1} MiB/s  ratio {row.Ratio:F2}  alloc/read {row.AllocPerRead,6:F0} B (bare {row.RawAllocPerRead:F0} B)");
            }
        }

        string markdown = Render(results, blobMiB, reads, rounds);
        Console.WriteLine();
        Console.WriteLine(markdown);
        if (output is not null)
        {
            await File.WriteAllTextAsync(output, markdown);
        }

        return 0;
    }

    private static async Task<(double Seconds, long Allocated)> RunClientAsync(RegistryClient client, BlobLocator locator, long[] offsets, int concurrency)
    {
        byte[][] buffers = Enumerable.Range(0, concurrency).Select(_ => new byte[RangeSize]).ToArray();
        int next = -1;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            byte[] buffer = buffers[worker];
            int i;
            while ((i = Interlocked.Increment(ref next)) < offsets.Length)
            {
                await client.ReadAsync(locator, offsets[i], buffer).ConfigureAwait(false);
            }
        })));
        double seconds = watch.Elapsed.TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        // The worker buffers are part of the harness, not of a read.
        return (seconds, allocated);
    }

    /// <summary>The floor of what .NET can do: bare HttpClient range GETs into the same buffers, no checks beyond the status.</summary>
    private static async Task<(double Seconds, long Allocated)> RunRawHttpClientAsync(HttpClient client, string url, long[] offsets, int concurrency)
    {
        byte[][] buffers = Enumerable.Range(0, concurrency).Select(_ => new byte[RangeSize]).ToArray();
        int next = -1;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            byte[] buffer = buffers[worker];
            int i;
            while ((i = Interlocked.Increment(ref next)) < offsets.Length)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(offsets[i], offsets[i] + RangeSize - 1);
                using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.PartialContent)
                {
                    throw new InvalidOperationException($"raw HttpClient got {(int)response.StatusCode}");
                }

                await using Stream body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
                await body.ReadExactlyAsync(buffer).ConfigureAwait(false);
            }
        })));
        double seconds = watch.Elapsed.TotalSeconds;
        return (seconds, GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore);
    }

    /// <summary>Runs <paramref name="concurrency"/> curl processes, each fetching its share of the ranges over one kept-alive connection.</summary>
    private static async Task<double> RunCurlAsync(string url, long[] offsets, int concurrency)
    {
        string dir = Directory.CreateTempSubdirectory("curl-bench-").FullName;
        try
        {
            var configs = new List<string>();
            for (int worker = 0; worker < concurrency; worker++)
            {
                var config = new StringBuilder();
                for (int i = worker; i < offsets.Length; i += concurrency)
                {
                    if (config.Length > 0)
                    {
                        config.AppendLine("next");
                    }

                    config.AppendLine(CultureInfo.InvariantCulture, $"url = \"{url}\"");
                    config.AppendLine(CultureInfo.InvariantCulture, $"range = \"{offsets[i]}-{offsets[i] + RangeSize - 1}\"");
                    config.AppendLine("output = \"/dev/null\"");
                    config.AppendLine("write-out = \"%{http_code} %{size_download}\\n\"");
                }

                string path = Path.Combine(dir, $"w{worker}.cfg");
                await File.WriteAllTextAsync(path, config.ToString());
                configs.Add(path);
            }

            var watch = Stopwatch.StartNew();
            string[] outputs = await Task.WhenAll(configs.Select(async config =>
            {
                using Process process = Process.Start(new ProcessStartInfo("curl", ["-s", "-K", config]) { RedirectStandardOutput = true })!;
                string text = await process.StandardOutput.ReadToEndAsync();
                await process.WaitForExitAsync();
                return text;
            }));
            double seconds = watch.Elapsed.TotalSeconds;
            string expected = $"206 {RangeSize}";
            int good = outputs.SelectMany(o => o.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Count(l => l.Trim() == expected);
            if (good != offsets.Length)
            {
                throw new InvalidOperationException($"curl completed {good} of {offsets.Length} ranges correctly");
            }

            return seconds;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Render(List<Row> rows, int blobMiB, int reads, int rounds)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| pattern | concurrency | RegistryClient MiB/s | curl MiB/s | client / curl (median of per-round ratios) | bare HttpClient MiB/s | allocated bytes per read | bare HttpClient bytes per read |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Row r in rows)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Pattern} | {r.Concurrency} | {r.ClientMiBs:F1} | {r.CurlMiBs:F1} | {r.Ratio:F2} | {r.RawMiBs:F1} | {r.AllocPerRead:F0} | {r.RawAllocPerRead:F0} |");
        }

        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{reads} reads of 1 MiB per cell over a {blobMiB} MiB blob, median of {rounds} interleaved rounds; {Environment.ProcessorCount} cores; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end.");
        return sb.ToString();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        string? value = StringArg(args, name);
        return value is null ? fallback : int.Parse(value, CultureInfo.InvariantCulture);
    }

    private static string? StringArg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>One cell; rates are in MiB/s (one read is 1 MiB).</summary>
    private sealed record Row(string Pattern, int Concurrency, double ClientMiBs, double CurlMiBs, double RawMiBs, double Ratio, double AllocPerRead, double RawAllocPerRead);
}
