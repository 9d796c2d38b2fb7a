using System.Text.Json;
using System.Text.RegularExpressions;

namespace Snapshotter.Tests.Deploy;

/// <summary>The queries of deploy/grafana/snapshotter-dashboard.json, and Grafana's variables filled in as Grafana would.</summary>
internal static partial class DashboardQueries
{
    /// <summary>Every panel, rows' nested panels included.</summary>
    public static IEnumerable<JsonElement> Panels(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in nested.EnumerateArray())
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>Every panel target's expression.</summary>
    public static IEnumerable<DashboardQuery> Expressions(JsonElement dashboard) =>
        from panel in Panels(dashboard)
        where panel.TryGetProperty("targets", out _)
        from target in panel.GetProperty("targets").EnumerateArray()
        select new DashboardQuery(panel.GetProperty("title").GetString()!, target.GetProperty("refId").GetString()!, target.GetProperty("expr").GetString()!);

    /// <summary>
    /// The query variables (<c>label_values(SELECTOR, LABEL)</c>, Grafana's own syntax) as PromQL that returns one series
    /// per value: <c>count by (LABEL) (SELECTOR)</c>.
    /// </summary>
    public static IEnumerable<(string Name, string Label, string PromQl)> Variables(JsonElement dashboard)
    {
        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() != "query")
            {
                continue;
            }

            var query = variable.GetProperty("query");
            var text = query.ValueKind == JsonValueKind.Object ? query.GetProperty("query").GetString()! : query.GetString()!;
            var m = LabelValues().Match(text);
            if (!m.Success)
            {
                throw new InvalidOperationException($"variable {variable.GetProperty("name")}: unsupported query {text}");
            }

            yield return (variable.GetProperty("name").GetString()!, m.Groups[2].Value, $"count by ({m.Groups[2].Value}) ({m.Groups[1].Value})");
        }
    }

    /// <summary>Fills in the dashboard's variables: a node, an image regex, the rate interval and the range.</summary>
    public static string Substitute(string expr, string instance, string image, string rateInterval, string range) =>
        expr.Replace("$__rate_interval", rateInterval, StringComparison.Ordinal)
            .Replace("$__range", range, StringComparison.Ordinal)
            .Replace("${instance}", instance, StringComparison.Ordinal)
            .Replace("$instance", instance, StringComparison.Ordinal)
            .Replace("${image}", image, StringComparison.Ordinal)
            .Replace("$image", image, StringComparison.Ordinal);

    [GeneratedRegex(@"^\s*label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)\s*$")]
    private static partial Regex LabelValues();
}
