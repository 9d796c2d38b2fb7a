using System.Globalization;

namespace Snapshotter.Benchmarks.Measurement;

/// <summary>Command-line options of the foundation benchmark.</summary>
internal sealed record BenchOptions
{
    /// <summary>Measured rounds; each runs both snapshotters, alternating which goes first. Defaults to 20.</summary>
    public int Rounds { get; init; } = 20;

    /// <summary>Prepare+Commit+Remove cycles per snapshotter per round. Defaults to 50.</summary>
    public int Cycles { get; init; } = 50;

    /// <summary>Stat calls per snapshotter per round. Defaults to 200.</summary>
    public int Stats { get; init; } = 200;

    /// <summary>Committed snapshots created for the memory measurement. Defaults to 1000.</summary>
    public int Snapshots { get; init; } = 1000;

    /// <summary>The snapshotter compared with the built-in one. Defaults to our proxy plugin <c>lazy</c>;
    /// another name (e.g. <c>native</c>) checks the harness itself without our service.</summary>
    public string Candidate { get; init; } = "lazy";

    /// <summary>The reference snapshotter. Defaults to containerd's built-in <c>overlayfs</c>.</summary>
    public string Baseline { get; init; } = "overlayfs";

    /// <summary>The <c>snapshotter.dll</c> to run as the service, e.g. another commit's build to compare with.
    /// Defaults to none: the one built next to the benchmark.</summary>
    public string? SnapshotterDll { get; init; }

    /// <summary>Where to write the markdown report (stdout always gets it). Defaults to none.</summary>
    public string? Output { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--rounds" => o with { Rounds = NextInt() },
                "--cycles" => o with { Cycles = NextInt() },
                "--stats" => o with { Stats = NextInt() },
                "--snapshots" => o with { Snapshots = NextInt() },
                "--candidate" => o with { Candidate = Next() },
                "--baseline" => o with { Baseline = Next() },
                "--output" => o with { Output = Next() },
                "--snapshotter-dll" => o with { SnapshotterDll = Next() },
                _ => throw new ArgumentException($"unknown option {args[i]}; options: --rounds N --cycles N --stats N --snapshots N --candidate NAME --baseline NAME --snapshotter-dll FILE --output FILE"),
            };
        }

        return o;
    }
}
