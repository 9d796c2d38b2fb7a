using System.Globalization;

namespace Snapshotter.P1.Benchmarks;

/// <summary>Command line of the P1 harness (see <see cref="Usage"/>).</summary>
internal sealed class P1Options
{
    public const string Usage = """
        usage: Snapshotter.P1.Benchmarks [--prepare-only] [--rounds N] [--rates 100,1000] [--cache DIR] [--work DIR] [--state DIR]
                 [--snapshotter DLL] [--lazy-mode auto|fscache|fuse|blob-fetch] [--serve-log-level LEVEL] [--label TEXT]
                 [--copy-registry] [--trace] [--only lazy|ordinary] [--no-warmup] [--cold-service] [--kernel-trace] [--serve-env K=V] [--output FILE] [--report FILE]
               Snapshotter.P1.Benchmarks --insert-report FILE --output FILE
          --prepare-only     generate the image and fill the registry storage (cached in --cache), then exit
          --rounds N         measured rounds per rate (default 3), after one warm-up round at the first rate
          --rates LIST       link rates in Mbit/s, each direction (default 100,1000)
          --cache DIR        image and registry storage cache (default /var/tmp/p1-cache)
          --work DIR         per-sample containerd and service roots (default /var/tmp/p1-work; ext4 for fscache)
          --state DIR        containerd state and sockets (default /run/p1)
          --snapshotter DLL  the service measured (default artifacts/p1-snapshotter/snapshotter.dll)
          --copy-registry    serve a copy of the cached registry storage from --work (the VM sees the cache read-only)
          --trace            print each sample's registry requests and the service's log lines during it
          --only CASE        measure one case only (profiling; no ratio)
          --no-warmup        skip the unrecorded warm-up round
          --serve-env K=V    an environment variable for `snapshotter serve` (repeatable; experiments)
          --kernel-trace     with --trace: also FUSE requests, EROFS reads and execs (tracefs instance, clock mono)
          --cold-service     measure the service's first pull ever (default: before each sample's clock, a small other
                             image is pulled, run and garbage-collected, so the fresh daemons run warm code)
          --output FILE      insert the markdown report into FILE (bench/RESULTS.md), in its P1 section, newest first
          --report FILE      also write the report alone to FILE (the VM run writes it there for the host to insert)
          --insert-report F  insert the report file F into --output and exit (no measurement)
        """;

    public bool PrepareOnly { get; private set; }

    public int Rounds { get; private set; } = 3;

    public IReadOnlyList<long> RatesMbit { get; private set; } = [100, 1000];

    public string CacheDirectory { get; private set; } = "/var/tmp/p1-cache";

    public string WorkDirectory { get; private set; } = "/var/tmp/p1-work";

    public string StateDirectory { get; private set; } = "/run/p1";

    public string SnapshotterDll { get; private set; } = Path.GetFullPath("artifacts/p1-snapshotter/snapshotter.dll");

    public string LazyMode { get; private set; } = "auto";

    public string ServeLogLevel { get; private set; } = "info";

    public string Label { get; private set; } = "host";

    public bool CopyRegistry { get; private set; }

    public bool Trace { get; private set; }

    public string? Output { get; private set; }

    public string? Report { get; private set; }

    public string? InsertReport { get; private set; }

    public bool Help { get; private set; }

    public string? Only { get; private set; }

    public bool Warmup { get; private set; } = true;

    public bool ColdService { get; private set; }

    public bool KernelTrace { get; private set; }

    public Dictionary<string, string> ServeEnvironment { get; } = new(StringComparer.Ordinal);

    public static P1Options Parse(string[] args)
    {
        var o = new P1Options();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--prepare-only": o.PrepareOnly = true; break;
                case "--rounds": o.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rates": o.RatesMbit = [.. Next().Split(',').Select(r => long.Parse(r, CultureInfo.InvariantCulture))]; break;
                case "--cache": o.CacheDirectory = Path.GetFullPath(Next()); break;
                case "--work": o.WorkDirectory = Path.GetFullPath(Next()); break;
                case "--state": o.StateDirectory = Path.GetFullPath(Next()); break;
                case "--snapshotter": o.SnapshotterDll = Path.GetFullPath(Next()); break;
                case "--lazy-mode": o.LazyMode = Next(); break;
                case "--serve-log-level": o.ServeLogLevel = Next(); break;
                case "--label": o.Label = Next(); break;
                case "--copy-registry": o.CopyRegistry = true; break;
                case "--trace": o.Trace = true; break;
                case "--output": o.Output = Path.GetFullPath(Next()); break;
                case "--report": o.Report = Path.GetFullPath(Next()); break;
                case "--insert-report": o.InsertReport = Path.GetFullPath(Next()); break;
                case "--help" or "-h": o.Help = true; break;
                case "--only": o.Only = Next(); break;
                case "--no-warmup": o.Warmup = false; break;
                case "--cold-service": o.ColdService = true; break;
                case "--kernel-trace": o.KernelTrace = true; break;
                case "--serve-env":
                    var kv = Next().Split('=', 2);
                    o.ServeEnvironment[kv[0]] = kv.Length > 1 ? kv[1] : string.Empty;
                    break;
                default: throw new ArgumentException($"unknown argument {args[i]}\n{Usage}");
            }
        }

        return o;
    }
}
