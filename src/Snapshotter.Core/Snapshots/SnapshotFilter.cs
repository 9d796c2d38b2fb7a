using System.Text;
using System.Text.RegularExpressions;

namespace Snapshotter.Core.Snapshots;

/// <summary>
/// containerd's filter syntax as used on snapshots (<c>containerd/filters</c>): each filter string is a
/// comma-separated list of conditions that must all hold; a snapshot matches the set when it matches any one
/// filter (an empty set matches everything). A condition is <c>field</c> (present),
/// <c>field==value</c>, <c>field!=value</c> or <c>field~=regexp</c>. Fields: <c>name</c>, <c>parent</c>,
/// <c>kind</c> (<c>active</c>, <c>view</c>, <c>committed</c>) and <c>labels.&lt;key&gt;</c>; a field part may be
/// quoted (<c>labels."containerd.io/snapshot.ref"</c>); values may be bare or quoted with <c>"</c> or <c>/</c>.
/// </summary>
internal sealed class SnapshotFilter
{
    private readonly IReadOnlyList<IReadOnlyList<Condition>> _alternatives;

    private SnapshotFilter(IReadOnlyList<IReadOnlyList<Condition>> alternatives) => _alternatives = alternatives;

    /// <summary>A filter that matches every snapshot.</summary>
    public static SnapshotFilter All { get; } = new([]);

    /// <summary>Parses filter strings; throws InvalidArgument naming the problem when one is malformed.</summary>
    public static SnapshotFilter Parse(IEnumerable<string> filters)
    {
        var alternatives = new List<IReadOnlyList<Condition>>();
        foreach (var filter in filters)
        {
            if (string.IsNullOrWhiteSpace(filter))
            {
                continue;
            }

            alternatives.Add(new Parser(filter).ParseConditions());
        }

        return alternatives.Count == 0 ? All : new SnapshotFilter(alternatives);
    }

    /// <summary>True when <paramref name="info"/> satisfies this filter.</summary>
    public bool Matches(SnapshotInfo info)
    {
        if (_alternatives.Count == 0)
        {
            return true;
        }

        foreach (var conditions in _alternatives)
        {
            var all = true;
            foreach (var condition in conditions)
            {
                if (!condition.Matches(info))
                {
                    all = false;
                    break;
                }
            }

            if (all)
            {
                return true;
            }
        }

        return false;
    }

    private enum Operator
    {
        Present,
        Equal,
        NotEqual,
        Matches,
    }

    private sealed record Condition(IReadOnlyList<string> Field, Operator Op, string Value, Regex? Pattern)
    {
        public bool Matches(SnapshotInfo info)
        {
            var (present, actual) = Resolve(info);
            return Op switch
            {
                Operator.Present => present,
                Operator.Equal => present && actual == Value,
                // As containerd: an absent field reads as "" for != and ~=.
                Operator.NotEqual => actual != Value,
                Operator.Matches => Pattern!.IsMatch(actual),
                _ => false,
            };
        }

        private (bool Present, string Value) Resolve(SnapshotInfo info)
        {
            switch (Field[0])
            {
                case "name" when Field.Count == 1:
                    return (true, info.Name);
                case "parent" when Field.Count == 1:
                    // containerd's snapshot adaptor reports parent as always present ("" for a base snapshot).
                    return (true, info.Parent);
                case "kind" when Field.Count == 1:
                    return (true, info.Kind.ToString().ToLowerInvariant());
                case "labels" when Field.Count >= 2:
                    var key = string.Join('.', Field.Skip(1));
                    return info.Labels.TryGetValue(key, out var v) ? (true, v) : (false, string.Empty);
                default:
                    return (false, string.Empty);
            }
        }
    }

    /// <summary>A small hand-written scanner: the grammar is tiny and errors must point at the offending column.</summary>
    private ref struct Parser(string text)
    {
        private readonly string _text = text;
        private int _pos;

        public List<Condition> ParseConditions()
        {
            var conditions = new List<Condition>();
            while (true)
            {
                SkipSpace();
                conditions.Add(ParseCondition());
                SkipSpace();
                if (_pos >= _text.Length)
                {
                    return conditions;
                }

                if (_text[_pos] != ',')
                {
                    throw Error($"expected ',' but found '{_text[_pos]}'");
                }

                _pos++;
            }
        }

        private Condition ParseCondition()
        {
            var field = new List<string> { ParseFieldPart() };
            while (_pos < _text.Length && _text[_pos] == '.')
            {
                _pos++;
                field.Add(ParseFieldPart());
            }

            ValidateField(field);
            SkipSpace();
            if (_pos >= _text.Length || _text[_pos] == ',')
            {
                return new Condition(field, Operator.Present, string.Empty, null);
            }

            Operator op;
            if (Peek("=="))
            {
                op = Operator.Equal;
            }
            else if (Peek("!="))
            {
                op = Operator.NotEqual;
            }
            else if (Peek("~="))
            {
                op = Operator.Matches;
            }
            else
            {
                throw Error($"expected an operator (==, != or ~=) but found '{_text[_pos]}'");
            }

            _pos += 2;
            SkipSpace();
            var value = ParseValue();
            Regex? pattern = null;
            if (op == Operator.Matches)
            {
                try
                {
                    pattern = new Regex(value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                }
                catch (ArgumentException e)
                {
                    throw Error($"invalid regular expression '{value}': {e.Message}");
                }
            }

            return new Condition(field, op, value, pattern);
        }

        private SnapshotterException Error(string message) =>
            SnapshotterException.InvalidArgument($"invalid filter '{_text}' at column {_pos + 1}: {message}");

        private void ValidateField(List<string> field)
        {
            var ok = field[0] switch
            {
                "name" or "parent" or "kind" => field.Count == 1,
                "labels" => field.Count >= 2 && field[1].Length > 0,
                _ => false,
            };
            if (!ok)
            {
                throw Error($"unknown field '{string.Join('.', field)}' (known: name, parent, kind, labels.<key>)");
            }
        }

        private string ParseFieldPart()
        {
            if (_pos < _text.Length && _text[_pos] is '"' or '`')
            {
                return ParseQuoted(_text[_pos]);
            }

            var start = _pos;
            while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '-' or '/'))
            {
                _pos++;
            }

            if (_pos == start)
            {
                throw Error(_pos < _text.Length ? $"expected a field name but found '{_text[_pos]}'" : "expected a field name");
            }

            return _text[start.._pos];
        }

        private string ParseValue()
        {
            if (_pos < _text.Length && _text[_pos] is '"' or '/' or '`')
            {
                return ParseQuoted(_text[_pos]);
            }

            // A bare value ends at ',' or white space, as in containerd's scanner.
            var start = _pos;
            while (_pos < _text.Length && _text[_pos] != ',' && !char.IsWhiteSpace(_text[_pos]))
            {
                _pos++;
            }

            var value = _text[start.._pos];
            if (value.Length == 0)
            {
                throw Error("expected a value");
            }

            return value;
        }

        private string ParseQuoted(char quote)
        {
            var sb = new StringBuilder();
            _pos++;
            while (_pos < _text.Length)
            {
                var c = _text[_pos++];
                if (c == quote)
                {
                    return sb.ToString();
                }

                if (c == '\\' && quote != '`' && _pos < _text.Length)
                {
                    var e = _text[_pos++];
                    sb.Append(e switch
                    {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        _ when quote == '/' && e != '/' => $"\\{e}",
                        _ => e.ToString(),
                    });
                    continue;
                }

                sb.Append(c);
            }

            throw Error($"unterminated quoted string (missing {quote})");
        }

        private readonly bool Peek(string s) => string.CompareOrdinal(_text, _pos, s, 0, s.Length) == 0;

        private void SkipSpace()
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
            {
                _pos++;
            }
        }
    }
}
