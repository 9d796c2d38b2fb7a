using System.Text.Json;
using System.Text.RegularExpressions;

namespace Snapshotter.Tests.Cli;

/// <summary>The output of one <c>snapshotter check</c> run: its text lines parsed by check name, or its JSON.</summary>
internal sealed partial class CheckOutput
{
    private CheckOutput(int exitCode, string stdout, string stderr, Dictionary<string, (string Status, string Detail, string? Hint)> lines)
    {
        ExitCode = exitCode;
        Stdout = stdout;
        Stderr = stderr;
        Lines = lines;
    }

    public int ExitCode { get; }

    public string Stdout { get; }

    public string Stderr { get; }

    /// <summary>Each check line: status label (OK/WARN/FAIL), detail, and the hint line under it.</summary>
    public Dictionary<string, (string Status, string Detail, string? Hint)> Lines { get; }

    public (string Status, string Detail, string? Hint) this[string name] =>
        Lines.TryGetValue(name, out var line) ? line : throw new Xunit.Sdk.XunitException($"no check line '{name}' in:\n{Stdout}\n{Stderr}");

    public override string ToString() => $"exit {ExitCode}\n{Stdout}\n{Stderr}";

    public static CheckOutput Parse(int exitCode, string stdout, string stderr)
    {
        var lines = new Dictionary<string, (string, string, string?)>(StringComparer.Ordinal);
        string? last = null;
        foreach (var line in stdout.Split('\n'))
        {
            if (CheckLine().Match(line) is { Success: true } m)
            {
                last = m.Groups[2].Value;
                lines[last] = (m.Groups[1].Value, m.Groups[3].Value, null);
            }
            else if (last is not null && HintLine().Match(line) is { Success: true } h)
            {
                lines[last] = lines[last] with { Item3 = h.Groups[1].Value };
            }
        }

        return new CheckOutput(exitCode, stdout, stderr, lines);
    }

    public JsonDocument Json() => JsonDocument.Parse(Stdout);

    [GeneratedRegex(@"^(OK|WARN|FAIL) +(\S+) +(.*)$")]
    private static partial Regex CheckLine();

    [GeneratedRegex(@"^ +-> (.*)$")]
    private static partial Regex HintLine();
}
