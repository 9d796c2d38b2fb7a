using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Snapshotter.Interop;
using Tmds.Linux;

namespace Snapshotter.Fuse.Benchmarks;

/// <summary>
/// What FUSE costs for blob files: reads of one big blob directly, through a <see cref="FuseServer"/> serving it from
/// the local file (no KEEP_CACHE, KEEP_CACHE, passthrough), and of a file inside EROFS mounted from local files vs
/// from the FUSE files. Cold runs drop the page cache first; variants are interleaved round by round.
/// </summary>
internal static class BenchmarkRunner
{
    public static async Task<int> RunAsync(string workDirectory, string[] args)
    {
        var sizeMib = IntOption(args, "--size-mib", 256);
        var randomReads = IntOption(args, "--random-reads", 2000);
        var rounds = IntOption(args, "--rounds", 3);
        Directory.CreateDirectory(workDirectory);
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
        var logger = loggerFactory.CreateLogger("fuse");

        var (bootstrap, blob, inner) = PrepareImage(workDirectory, sizeMib);
        await using var setup = new BenchSetup(workDirectory, bootstrap, blob, logger);
        var variants = setup.Variants(inner);
        var results = variants.ToDictionary(v => v.Name, _ => new VariantResults());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var variant in variants)
            {
                if (variant.Path is null)
                {
                    continue;
                }

                var r = results[variant.Name];
                DropCaches();
                r.ColdSequential.Add(SequentialMbps(variant.Path));
                SequentialMbps(variant.Path);
                r.WarmSequential.Add(SequentialMbps(variant.Path));
                DropCaches();
                r.RandomLatencies.AddRange(RandomReadMicros(variant.Path, randomReads, 1000 + round));
                Console.Error.WriteLine($"round {round + 1} {variant.Name}: cold {r.ColdSequential[^1]:F0} MB/s, warm {r.WarmSequential[^1]:F0} MB/s");
            }
        }

        Console.WriteLine(Report(variants, results, sizeMib, randomReads, rounds));
        return 0;
    }

    private static (string Bootstrap, string Blob, string InnerFile) PrepareImage(string work, int sizeMib)
    {
        var tree = Path.Combine(work, "tree");
        var bootstrap = Path.Combine(work, "meta.img");
        var blob = Path.Combine(work, "blob.img");
        const string inner = "big.bin";
        var big = Path.Combine(tree, inner);
        if (!File.Exists(blob) || new FileInfo(big).Length != (long)sizeMib << 20)
        {
            Directory.CreateDirectory(tree);
            using (var stream = File.Create(big))
            {
                var buffer = new byte[1 << 20];
                var random = new Random(1);
                for (var i = 0; i < sizeMib; i++)
                {
                    random.NextBytes(buffer);
                    stream.Write(buffer);
                }
            }

            File.Delete(bootstrap);
            File.Delete(blob);
            Run("mkfs.erofs", "--quiet", "--chunksize=65536", "--blobdev=" + blob, bootstrap, tree);
        }

        return (bootstrap, blob, inner);
    }

    private static double SequentialMbps(string path)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(1 << 20, pinned: true);
        using var handle = File.OpenHandle(path);
        var watch = Stopwatch.StartNew();
        long total = 0;
        int n;
        while ((n = RandomAccess.Read(handle, buffer, total)) > 0)
        {
            total += n;
        }

        return total / 1e6 / watch.Elapsed.TotalSeconds;
    }

    private static unsafe List<double> RandomReadMicros(string path, int count, int seed)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(4096, pinned: true);
        using var handle = File.OpenHandle(path);
        var pages = RandomAccess.GetLength(handle) / 4096;
        var random = new Random(seed);
        var latencies = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var offset = random.NextInt64(pages) * 4096;
            var start = Stopwatch.GetTimestamp();
            RandomAccess.Read(handle, buffer, offset);
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        return latencies;
    }

    private static string Report(IReadOnlyList<BenchVariant> variants, Dictionary<string, VariantResults> results, int sizeMib, int randomReads, int rounds)
    {
        var text = new StringBuilder();
        text.AppendLine($"| variant | cold sequential MB/s | warm (3rd read, re-opened) MB/s | cold 4 KiB random p50 µs | p99 µs |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var variant in variants)
        {
            if (variant.Path is null)
            {
                text.AppendLine($"| {variant.Name} | {variant.Note} | | | |");
                continue;
            }

            var r = results[variant.Name];
            r.RandomLatencies.Sort();
            text.AppendLine($"| {variant.Name} | {Median(r.ColdSequential):F0} | {Median(r.WarmSequential):F0} | {Percentile(r.RandomLatencies, 0.50):F0} | {Percentile(r.RandomLatencies, 0.99):F0} |");
        }

        text.AppendLine();
        text.AppendLine($"File: {sizeMib} MiB, 1 MiB read() calls; {randomReads} random 4 KiB preads per round; {rounds} interleaved rounds (medians; random percentiles over all rounds).");
        foreach (var variant in variants.Where(v => v.Note is not null && v.Path is not null))
        {
            text.AppendLine($"- {variant.Name}: {variant.Note}");
        }

        return text.ToString();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    private static void DropCaches()
    {
        Run("sync");
        File.WriteAllText("/proc/sys/vm/drop_caches", "3");
    }

    internal static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} exited {process.ExitCode}: {stderr}");
        }
    }

    private static int IntOption(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }

    internal static void MountErofs(string bootstrap, string blob, string target) =>
        MountCalls.Mount(bootstrap, target, "erofs", (ulong)LibC.MS_RDONLY, "device=" + blob);
}
