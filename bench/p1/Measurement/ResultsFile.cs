namespace Snapshotter.P1.Benchmarks.Measurement;

/// <summary>Puts a run into bench/RESULTS.md: its own section (created at the end when missing), newest run first.</summary>
internal static class ResultsFile
{
    public const string Section = "## P1: pull to first output line";

    public static async Task InsertAsync(string path, string markdown, CancellationToken cancellationToken = default)
    {
        var text = File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken) : "# Benchmark results\n";
        var at = text.IndexOf("\n" + Section + "\n", StringComparison.Ordinal);
        if (at < 0)
        {
            text = text.TrimEnd('\n') + "\n\n" + Section + "\n\n" +
                "Written by `bench/run-p1.sh` (bench/p1); newest run first. P1 = time from the start of a pull to the container's " +
                "first output line; lazy image through `snapshotter serve` vs the same image as an ordinary OCI image through " +
                "containerd's built-in overlayfs, registry behind a throttling proxy (the harness's own: one token bucket per direction).\n";
            at = text.IndexOf("\n" + Section + "\n", StringComparison.Ordinal);
        }

        // After the section heading and its description paragraph.
        var body = at + Section.Length + 2;
        var firstRun = text.IndexOf("\n### ", body, StringComparison.Ordinal);
        var nextSection = text.IndexOf("\n## ", body, StringComparison.Ordinal);
        var insert = firstRun >= 0 && (nextSection < 0 || firstRun < nextSection) ? firstRun + 1 : nextSection >= 0 ? nextSection + 1 : text.Length;
        var prefix = text[..insert].TrimEnd('\n') + "\n\n";
        await File.WriteAllTextAsync(path, prefix + markdown.TrimEnd('\n') + "\n\n" + text[insert..].TrimStart('\n'), cancellationToken);
    }
}
