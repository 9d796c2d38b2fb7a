using System.Text;

namespace Snapshotter.Registry.Auth;

/// <summary>One <c>WWW-Authenticate</c> challenge: <c>Bearer realm="..",service="..",scope=".."</c> or <c>Basic realm=".."</c>.</summary>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    public string? Realm => Parameters.GetValueOrDefault("realm");

    public string? Service => Parameters.GetValueOrDefault("service");

    public string? Scope => Parameters.GetValueOrDefault("scope");

    /// <summary>Parses every challenge of the header values; unknown syntax is skipped, never thrown.</summary>
    public static List<AuthChallenge> Parse(IEnumerable<string> headerValues)
    {
        var result = new List<AuthChallenge>();
        foreach (string header in headerValues)
        {
            ParseOne(header, result);
        }

        return result;
    }

    private static void ParseOne(string header, List<AuthChallenge> result)
    {
        int pos = 0;
        string? scheme = null;
        Dictionary<string, string>? parameters = null;
        while (pos < header.Length)
        {
            SkipSeparators(header, ref pos);
            int tokenStart = pos;
            while (pos < header.Length && header[pos] is not (' ' or '=' or ','))
            {
                pos++;
            }

            string token = header[tokenStart..pos];
            if (token.Length == 0)
            {
                break;
            }

            int look = pos;
            while (look < header.Length && header[look] == ' ')
            {
                look++;
            }

            if (look < header.Length && header[look] == '=' && scheme is not null)
            {
                pos = look + 1;
                while (pos < header.Length && header[pos] == ' ')
                {
                    pos++;
                }

                parameters![token.ToLowerInvariant()] = ReadValue(header, ref pos);
                continue;
            }

            if (scheme is not null)
            {
                result.Add(new AuthChallenge(scheme, parameters!));
            }

            scheme = token;
            parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        }

        if (scheme is not null)
        {
            result.Add(new AuthChallenge(scheme, parameters!));
        }
    }

    private static string ReadValue(string header, ref int pos)
    {
        if (pos < header.Length && header[pos] == '"')
        {
            pos++;
            var sb = new StringBuilder();
            while (pos < header.Length && header[pos] != '"')
            {
                if (header[pos] == '\\' && pos + 1 < header.Length)
                {
                    pos++;
                }

                sb.Append(header[pos++]);
            }

            pos++;
            return sb.ToString();
        }

        int start = pos;
        while (pos < header.Length && header[pos] is not (',' or ' '))
        {
            pos++;
        }

        return header[start..pos];
    }

    private static void SkipSeparators(string header, ref int pos)
    {
        while (pos < header.Length && header[pos] is ' ' or ',')
        {
            pos++;
        }
    }
}
