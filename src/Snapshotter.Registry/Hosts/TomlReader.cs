using System.Globalization;
using System.Text;

namespace Snapshotter.Registry.Hosts;

/// <summary>
/// A reader for the TOML subset containerd's <c>hosts.toml</c> uses: comments, <c>[table."quoted".keys]</c>,
/// dotted and quoted keys, basic/literal strings, booleans, integers, (multi-line) arrays and inline tables.
/// Tables are <see cref="Dictionary{TKey,TValue}"/> of string to string, bool, long, List&lt;object&gt; or table.
/// </summary>
internal sealed class TomlReader
{
    private readonly string _text;
    private readonly string _source;
    private int _pos;
    private int _line = 1;

    private TomlReader(string text, string source)
    {
        _text = text;
        _source = source;
    }

    /// <summary>Parses a whole document; throws <see cref="FormatException"/> with file and line on errors.</summary>
    public static Dictionary<string, object> Parse(string text, string source = "toml")
    {
        var reader = new TomlReader(text, source);
        return reader.ParseDocument();
    }

    private Dictionary<string, object> ParseDocument()
    {
        var root = new Dictionary<string, object>(StringComparer.Ordinal);
        Dictionary<string, object> current = root;
        while (true)
        {
            SkipWhitespaceCommentsAndNewlines();
            if (_pos >= _text.Length)
            {
                return root;
            }

            if (_text[_pos] == '[')
            {
                _pos++;
                if (Peek() == '[')
                {
                    throw Error("arrays of tables ([[...]]) are not supported in hosts.toml");
                }

                List<string> path = ParseKeyPath();
                SkipSpaces();
                Expect(']');
                current = GetOrCreateTable(root, path);
                ExpectEndOfLine();
                continue;
            }

            List<string> key = ParseKeyPath();
            SkipSpaces();
            Expect('=');
            SkipSpaces();
            object value = ParseValue();
            Dictionary<string, object> target = GetOrCreateTable(current, key.GetRange(0, key.Count - 1));
            if (!target.TryAdd(key[^1], value))
            {
                throw Error($"duplicate key \"{string.Join('.', key)}\"");
            }

            ExpectEndOfLine();
        }
    }

    private Dictionary<string, object> GetOrCreateTable(Dictionary<string, object> parent, List<string> path)
    {
        Dictionary<string, object> table = parent;
        foreach (string part in path)
        {
            if (!table.TryGetValue(part, out object? existing))
            {
                var created = new Dictionary<string, object>(StringComparer.Ordinal);
                table[part] = created;
                table = created;
            }
            else if (existing is Dictionary<string, object> nested)
            {
                table = nested;
            }
            else
            {
                throw Error($"key \"{part}\" is both a value and a table");
            }
        }

        return table;
    }

    private List<string> ParseKeyPath()
    {
        var parts = new List<string>();
        while (true)
        {
            SkipSpaces();
            parts.Add(ParseKey());
            SkipSpaces();
            if (Peek() != '.')
            {
                return parts;
            }

            _pos++;
        }
    }

    private string ParseKey()
    {
        char c = Peek();
        if (c == '"')
        {
            return ParseBasicString();
        }

        if (c == '\'')
        {
            return ParseLiteralString();
        }

        int start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '-'))
        {
            _pos++;
        }

        if (start == _pos)
        {
            throw Error("expected a key");
        }

        return _text[start.._pos];
    }

    private object ParseValue()
    {
        char c = Peek();
        switch (c)
        {
            case '"':
                return ParseBasicString();
            case '\'':
                return ParseLiteralString();
            case '[':
                return ParseArray();
            case '{':
                return ParseInlineTable();
        }

        if (Matches("true"))
        {
            _pos += 4;
            return true;
        }

        if (Matches("false"))
        {
            _pos += 5;
            return false;
        }

        int start = _pos;
        while (_pos < _text.Length && (char.IsAsciiDigit(_text[_pos]) || _text[_pos] is '+' or '-' or '_'))
        {
            _pos++;
        }

        if (start < _pos && long.TryParse(_text.AsSpan(start, _pos - start).ToString().Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
        {
            return number;
        }

        throw Error("expected a string, boolean, integer, array or inline table");
    }

    private List<object> ParseArray()
    {
        Expect('[');
        var items = new List<object>();
        while (true)
        {
            SkipWhitespaceCommentsAndNewlines();
            if (Peek() == ']')
            {
                _pos++;
                return items;
            }

            items.Add(ParseValue());
            SkipWhitespaceCommentsAndNewlines();
            if (Peek() == ',')
            {
                _pos++;
                continue;
            }

            SkipWhitespaceCommentsAndNewlines();
            Expect(']');
            return items;
        }
    }

    private Dictionary<string, object> ParseInlineTable()
    {
        Expect('{');
        var table = new Dictionary<string, object>(StringComparer.Ordinal);
        SkipSpaces();
        if (Peek() == '}')
        {
            _pos++;
            return table;
        }

        while (true)
        {
            List<string> key = ParseKeyPath();
            SkipSpaces();
            Expect('=');
            SkipSpaces();
            object value = ParseValue();
            if (!GetOrCreateTable(table, key.GetRange(0, key.Count - 1)).TryAdd(key[^1], value))
            {
                throw Error($"duplicate key \"{string.Join('.', key)}\"");
            }

            SkipSpaces();
            if (Peek() == ',')
            {
                _pos++;
                continue;
            }

            Expect('}');
            return table;
        }
    }

    private string ParseBasicString()
    {
        Expect('"');
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length || _text[_pos] == '\n')
            {
                throw Error("unterminated string");
            }

            char c = _text[_pos++];
            if (c == '"')
            {
                return sb.ToString();
            }

            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            char e = _pos < _text.Length ? _text[_pos++] : '\0';
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'u' or 'U':
                    int length = e == 'u' ? 4 : 8;
                    if (_pos + length > _text.Length || !int.TryParse(_text.AsSpan(_pos, length), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
                    {
                        throw Error("invalid unicode escape");
                    }

                    sb.Append(char.ConvertFromUtf32(code));
                    _pos += length;
                    break;
                default:
                    throw Error($"invalid escape \\{e}");
            }
        }
    }

    private string ParseLiteralString()
    {
        Expect('\'');
        int end = _text.IndexOf('\'', _pos);
        int newline = _text.IndexOf('\n', _pos);
        if (end < 0 || (newline >= 0 && newline < end))
        {
            throw Error("unterminated literal string");
        }

        string value = _text[_pos..end];
        _pos = end + 1;
        return value;
    }

    private void SkipSpaces()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\t')
        {
            _pos++;
        }
    }

    private void SkipWhitespaceCommentsAndNewlines()
    {
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c is ' ' or '\t' or '\r')
            {
                _pos++;
            }
            else if (c == '\n')
            {
                _pos++;
                _line++;
            }
            else if (c == '#')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private void ExpectEndOfLine()
    {
        SkipSpaces();
        if (_pos < _text.Length && _text[_pos] == '#')
        {
            while (_pos < _text.Length && _text[_pos] != '\n')
            {
                _pos++;
            }
        }

        if (_pos < _text.Length && _text[_pos] == '\r')
        {
            _pos++;
        }

        if (_pos < _text.Length && _text[_pos] != '\n')
        {
            throw Error("expected the end of the line");
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private bool Matches(string word) => string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0;

    private void Expect(char c)
    {
        if (Peek() != c)
        {
            throw Error($"expected '{c}'");
        }

        _pos++;
    }

    private FormatException Error(string message) => new($"{_source}:{_line}: {message}");
}
