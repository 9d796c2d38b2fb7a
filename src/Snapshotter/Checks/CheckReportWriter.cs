using System.Text.Json;

namespace Snapshotter.Checks;

/// <summary>
/// Writes a <see cref="CheckReport"/> for people (one line per check: status, name, finding; an indented hint under a
/// WARN or FAIL) or as JSON for machines, in a stable schema:
/// <c>{"schema": 1, "checks": [{"name", "status": "ok"|"warn"|"fail", "detail", "hint"}], "lazy_mode", "reason", "can_serve"}</c>.
/// </summary>
internal static class CheckReportWriter
{
    /// <summary>The version of the JSON schema; grows only when a field changes meaning or disappears.</summary>
    public const int Schema = 1;

    public static void WriteText(CheckReport report, TextWriter output)
    {
        var width = report.Checks.Max(c => c.Name.Length);
        foreach (var check in report.Checks)
        {
            output.WriteLine($"{Label(check.Status),-4}  {check.Name.PadRight(width)}  {check.Detail}");
            if (check.Hint is not null && check.Status != CheckStatus.Ok)
            {
                output.WriteLine($"{string.Empty,-4}  {string.Empty.PadRight(width)}  -> {check.Hint}");
            }
        }

        output.WriteLine();
        output.WriteLine($"lazy mode: {report.LazyMode}");
        output.WriteLine(report.CanServe
            ? "serve can run on this host"
            : $"serve cannot run: {string.Join("; ", report.Failures.Select(f => $"{f.Name}: {f.Detail}"))}");
    }

    public static void WriteJson(CheckReport report, Stream output)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteNumber("schema", Schema);
        json.WriteStartArray("checks");
        foreach (var check in report.Checks)
        {
            json.WriteStartObject();
            json.WriteString("name", check.Name);
            json.WriteString("status", Label(check.Status).ToLowerInvariant());
            json.WriteString("detail", check.Detail);
            if (check.Hint is null || check.Status == CheckStatus.Ok)
            {
                json.WriteNull("hint");
            }
            else
            {
                json.WriteString("hint", check.Hint);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("lazy_mode", report.LazyMode);
        json.WriteString("reason", report.Reason);
        json.WriteBoolean("can_serve", report.CanServe);
        json.WriteEndObject();
        json.Flush();
        output.Write("\n"u8);
    }

    private static string Label(CheckStatus status) => status switch
    {
        CheckStatus.Ok => "OK",
        CheckStatus.Warn => "WARN",
        _ => "FAIL",
    };
}
