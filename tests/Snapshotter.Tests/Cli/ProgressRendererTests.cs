using Snapshotter.Cli;

namespace Snapshotter.Tests.Cli;

/// <summary>The progress renderer of convert and mount: plain lines when redirected, one live line on a terminal.</summary>
public sealed class ProgressRendererTests
{
    private TimeSpan _now;

    private ProgressRenderer Renderer(StringWriter output, bool live, int width = 0) => new(output, live, width, () => _now);

    [Fact]
    public void Report_Plain_OneLinePerFinishedItemWithSizeTimeAndRate()
    {
        var output = new StringWriter();
        var renderer = Renderer(output, live: false);

        renderer.Report("layer 1/2", 0, 4 << 20);
        _now = TimeSpan.FromSeconds(1);
        renderer.Report("layer 1/2", 2 << 20, 4 << 20);
        Assert.Equal(string.Empty, output.ToString());
        _now = TimeSpan.FromSeconds(2);
        renderer.Report("layer 1/2", 4 << 20, 4 << 20);
        renderer.Report("layer 2/2", 512, 1024);
        _now = TimeSpan.FromSeconds(2.5);
        renderer.Report("layer 2/2", 1024, 1024);
        renderer.Complete();

        Assert.Equal($"layer 1/2: 4.0 MiB in 2.0 s, 2.0 MiB/s{Environment.NewLine}layer 2/2: 1.0 KiB in 0.5 s, 2.0 KiB/s{Environment.NewLine}", output.ToString());
        Assert.DoesNotContain('\r', output.ToString());
    }

    [Fact]
    public void Report_Live_RewritesOneLineAtMostEveryRedrawIntervalAndEndsWithNewline()
    {
        var output = new StringWriter();
        var renderer = Renderer(output, live: true);

        renderer.Report("bootstrap sha256:0123", 0, 1000);
        _now = TimeSpan.FromMilliseconds(100);
        renderer.Report("bootstrap sha256:0123", 100, 1000);
        _now = TimeSpan.FromMilliseconds(250);
        renderer.Report("bootstrap sha256:0123", 250, 1000);
        _now = TimeSpan.FromMilliseconds(300);
        renderer.Report("bootstrap sha256:0123", 1000, 1000);
        renderer.Complete();

        // The 100 ms report is within the redraw interval of the first; the last one (done) is always drawn.
        Assert.Equal(
            "\rbootstrap sha256:0123: 0 B / 1000 B (0%), 0 B/s" +
            "\rbootstrap sha256:0123: 250 B / 1000 B (25%), 1000 B/s" +
            "\rbootstrap sha256:0123: 1000 B / 1000 B (100%), 3.3 KiB/s" +
            "\rbootstrap sha256:0123: 1000 B / 1000 B (100%), 3.3 KiB/s" + Environment.NewLine,
            output.ToString());
    }

    [Fact]
    public void Complete_LongAfterTheLastReport_TimesTheItemToItsLastReport()
    {
        var plain = new StringWriter();
        var live = new StringWriter();
        var renderers = new[] { Renderer(plain, live: false), Renderer(live, live: true) };

        foreach (var renderer in renderers)
        {
            _now = TimeSpan.Zero;
            renderer.Report("layer 1/1", 0, 2048);
            _now = TimeSpan.FromSeconds(1);
            renderer.Report("layer 1/1", 2048, 2048);
            // Pushing the blobs afterwards is not the layer's time.
            _now = TimeSpan.FromSeconds(60);
            renderer.Complete();
        }

        Assert.Equal($"layer 1/1: 2.0 KiB in 1.0 s, 2.0 KiB/s{Environment.NewLine}", plain.ToString());
        Assert.EndsWith($"\rlayer 1/1: 2.0 KiB / 2.0 KiB (100%), 2.0 KiB/s{Environment.NewLine}", live.ToString());
    }

    [Fact]
    public void Report_LiveShorterLine_BlanksWhatTheLongerLeft()
    {
        var output = new StringWriter();
        var renderer = Renderer(output, live: true);

        renderer.Report("x", 1023, 0);
        _now = TimeSpan.FromSeconds(1000);
        renderer.Report("x", 1023, 0);

        var frames = output.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["x: 1023 B, 999.0 KiB/s", "x: 1023 B, 1 B/s"], frames.Select(f => f.TrimEnd()));
        Assert.Equal(frames[0].Length, frames[1].Length);
    }

    [Fact]
    public void Report_LiveWiderThanTheTerminal_CutToItsWidth()
    {
        var output = new StringWriter();
        var renderer = Renderer(output, live: true, width: 20);

        renderer.Report("layer 1/1 of a long image name", 10, 100);

        Assert.Equal("\rlayer 1/1 of a long", output.ToString());
    }

    [Fact]
    public void Complete_NothingReported_WritesNothingAndTwiceFinishesOnce()
    {
        var output = new StringWriter();
        using (var renderer = Renderer(output, live: false))
        {
            renderer.Complete();
            Assert.Equal(string.Empty, output.ToString());
            renderer.Report("a", 1, 1);
            renderer.Complete();
            renderer.Complete();
        }

        Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1024, "1.0 KiB")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(12.3 * 1024 * 1024, "12.3 MiB")]
    [InlineData(2L << 30, "2.0 GiB")]
    [InlineData(3L << 40, "3.0 TiB")]
    public void FormatBytes_Value_BinaryUnits(double bytes, string expected) => Assert.Equal(expected, ProgressRenderer.FormatBytes(bytes));
}
