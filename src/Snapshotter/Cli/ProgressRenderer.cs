using System.Diagnostics;
using System.Globalization;

namespace Snapshotter.Cli;

/// <summary>
/// Progress of long CLI work (convert's layers, mount's bootstrap download) on standard error. On a terminal one live
/// line is rewritten in place (<c>\r</c>) with bytes done/total, percentage and rate, at most every
/// <see cref="RedrawInterval"/>; otherwise (a pipe, a log file) one plain line per finished item, so logs stay readable.
/// An item is finished by the next item's first report, by <see cref="Complete"/> or by <see cref="Dispose"/>.
/// Thread-safe.
/// </summary>
internal sealed class ProgressRenderer : IDisposable
{
    /// <summary>Shortest time between two redraws of the live line.</summary>
    public static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(200);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2213:Disposable fields should be disposed", Justification = "the console or the caller's writer: the renderer writes to it, never owns it")]
    private readonly TextWriter _output;
    private readonly bool _live;
    private readonly int _width;
    private readonly Func<TimeSpan> _clock;
    private readonly Lock _lock = new();
    private string? _item;
    private long _done;
    private long _total;
    private TimeSpan _started;
    private TimeSpan _last;
    private TimeSpan _drawn;
    private int _drawnLength;

    /// <param name="output">Where lines go.</param>
    /// <param name="live">True on a terminal: one line rewritten in place; false: one plain line per finished item.</param>
    /// <param name="width">Terminal columns a live line is cut to (0: not cut).</param>
    /// <param name="clock">Elapsed time source (tests pass their own). Defaults to a stopwatch started now.</param>
    public ProgressRenderer(TextWriter output, bool live, int width = 0, Func<TimeSpan>? clock = null)
    {
        _output = output;
        _live = live;
        _width = width;
        if (clock is null)
        {
            var stopwatch = Stopwatch.StartNew();
            clock = () => stopwatch.Elapsed;
        }

        _clock = clock;
    }

    /// <summary>A renderer on standard error: live when it is a terminal, plain lines when redirected.</summary>
    public static ProgressRenderer ForStandardError()
    {
        var live = !Console.IsErrorRedirected;
        var width = 0;
        if (live)
        {
            try
            {
                width = Console.WindowWidth;
            }
            catch (IOException)
            {
                // No terminal size (e.g. a serial console): lines are not cut.
            }
        }

        return new ProgressRenderer(Console.Error, live, width);
    }

    /// <summary>Reports <paramref name="done"/> of <paramref name="total"/> bytes (total 0 or less: unknown) of <paramref name="item"/>.</summary>
    public void Report(string item, long done, long total)
    {
        lock (_lock)
        {
            var now = _clock();
            if (_item != item)
            {
                Finish();
                // Drawn "long ago": the first report of an item is always shown.
                (_item, _started, _drawn) = (item, now, now - RedrawInterval);
            }

            (_done, _total, _last) = (done, total, now);
            if (_live && (now - _drawn >= RedrawInterval || (total > 0 && done >= total)))
            {
                Draw();
            }
        }
    }

    /// <summary>Finishes the current item, if any: its last state on the live line and a newline, or its plain line.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            Finish();
        }
    }

    public void Dispose() => Complete();

    /// <summary>A byte count for people: <c>512 B</c>, <c>1.5 KiB</c>, <c>12.3 MiB</c>, <c>2.0 GiB</c>.</summary>
    public static string FormatBytes(double bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        var unit = 0;
        while (bytes >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes:0} B")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes:0.0} {units[unit]}");
    }

    /// <summary>The item's last state, timed to its last report (not to now: the work after it is not the item's).</summary>
    private void Finish()
    {
        if (_item is null)
        {
            return;
        }

        if (_live)
        {
            Draw();
            _output.WriteLine();
        }
        else
        {
            var elapsed = _last - _started;
            _output.WriteLine(string.Create(
                CultureInfo.InvariantCulture, $"{_item}: {FormatBytes(_done)} in {elapsed.TotalSeconds:0.0} s, {Rate(_done, elapsed)}"));
        }

        _output.Flush();
        (_item, _drawnLength) = (null, 0);
    }

    private void Draw()
    {
        var line = _total > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{_item}: {FormatBytes(_done)} / {FormatBytes(_total)} ({100.0 * _done / _total:0}%), {Rate(_done, _last - _started)}")
            : $"{_item}: {FormatBytes(_done)}, {Rate(_done, _last - _started)}";
        if (_width > 1 && line.Length >= _width)
        {
            // A line wider than the terminal wraps, and \r would then rewrite only its last row.
            line = line[..(_width - 1)];
        }

        // Blank out what a longer previous line left behind.
        _output.Write('\r' + line.PadRight(_drawnLength));
        _output.Flush();
        (_drawn, _drawnLength) = (_last, line.Length);
    }

    private static string Rate(long bytes, TimeSpan elapsed) =>
        FormatBytes(bytes / Math.Max(elapsed.TotalSeconds, 0.001)) + "/s";
}
