using System.Globalization;
using System.Text;

namespace Snapshotter.Tests.Hosting;

/// <summary>
/// A scrape of <c>/metrics</c> parsed into samples (text format 0.0.4: <c>name{label="value",...} value</c>), for
/// checking by how much the work under test moved a series.
/// </summary>
internal sealed class MetricsText
{
    private MetricsText(string text, IReadOnlyList<MetricSample> samples)
    {
        Text = text;
        Samples = samples;
    }

    /// <summary>The scraped text as served.</summary>
    public string Text { get; }

    public IReadOnlyList<MetricSample> Samples { get; }

    /// <summary>GETs <c>http://HOST:PORT/metrics</c> and parses the answer.</summary>
    public static async Task<MetricsText> ScrapeAsync(string hostPort, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync($"http://{hostPort}/metrics", cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET /metrics answered {(int)response.StatusCode}: {text}");
        }

        return Parse(text);
    }

    public static MetricsText Parse(string text)
    {
        var samples = new List<MetricSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            samples.Add(ParseLine(line));
        }

        return new MetricsText(text, samples);
    }

    /// <summary>The samples of <paramref name="name"/> whose labels include every pair of <paramref name="labels"/>.</summary>
    public IEnumerable<MetricSample> Matching(string name, params (string Key, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    /// <summary>
    /// The one sample of <paramref name="name"/> with <paramref name="labels"/>, or 0 when there is none (a counter
    /// nothing has moved yet is not exported); more than one match fails.
    /// </summary>
    public double Value(string name, params (string Key, string Value)[] labels)
    {
        var matches = Matching(name, labels).ToList();
        return matches.Count switch
        {
            0 => 0,
            1 => matches[0].Value,
            _ => throw new InvalidOperationException($"{matches.Count} samples of {name} match {string.Join(",", labels)}"),
        };
    }

    /// <summary>The one sample that must exist (a gauge that is exported even at 0).</summary>
    public double Required(string name, params (string Key, string Value)[] labels)
    {
        var matches = Matching(name, labels).ToList();
        return matches.Count == 1
            ? matches[0].Value
            : throw new InvalidOperationException($"expected one sample of {name} with {string.Join(",", labels)}, found {matches.Count}:\n{Text}");
    }

    private static MetricSample ParseLine(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        var name = line[..i];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var key = line[i..eq].Trim();
                i = eq + 2; // past ="
                var value = new StringBuilder();
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] == 'n' ? '\n' : line[i]);
                    }
                    else
                    {
                        value.Append(line[i]);
                    }

                    i++;
                }

                labels[key] = value.ToString();
                i++; // past "
                if (line[i] == ',')
                {
                    i++;
                }
            }

            i++; // past }
        }

        var rest = line[i..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var number = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new MetricSample(name, labels, number);
    }
}
