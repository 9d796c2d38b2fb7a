using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Tests.Snapshots;

public sealed class SnapshotFilterTests
{
    private static readonly DateTimeOffset Time = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static readonly SnapshotInfo Layer = new(
        "sha256:abc",
        "sha256:base",
        SnapshotKind.Committed,
        Time,
        Time,
        new Dictionary<string, string>
        {
            ["containerd.io/snapshot.ref"] = "sha256:abc",
            ["team"] = "blue team",
            ["empty"] = string.Empty,
        });

    private static readonly SnapshotInfo Base = new("sha256:base", string.Empty, SnapshotKind.Committed, Time, Time, new Dictionary<string, string>());

    private static readonly SnapshotInfo Container = new("ns/1/ctr", "sha256:abc", SnapshotKind.Active, Time, Time, new Dictionary<string, string> { ["team"] = "red" });

    private static readonly SnapshotInfo ReadOnly = new("ns/2/view", "sha256:abc", SnapshotKind.View, Time, Time, new Dictionary<string, string>());

    private static bool Matches(SnapshotInfo info, params string[] filters) => SnapshotFilter.Parse(filters).Matches(info);

    [Theory]
    [InlineData("labels.\"containerd.io/snapshot.ref\"==sha256:abc,parent==\"sha256:base\"", true)]
    [InlineData("labels.\"containerd.io/snapshot.ref\"==sha256:abc,parent==\"sha256:other\"", false)]
    [InlineData("labels.containerd.io/snapshot.ref==sha256:abc", true)]
    [InlineData("labels.`containerd.io/snapshot.ref`==sha256:abc", true)]
    [InlineData("name==sha256:abc", true)]
    [InlineData("name==sha256:ab", false)]
    [InlineData("name!=sha256:abc", false)]
    [InlineData("name!=other", true)]
    [InlineData("kind==committed", true)]
    [InlineData("kind==active", false)]
    [InlineData("name~=^sha256:[a-c]+$", true)]
    [InlineData("name~=/^sha256:a.c$/", true)]
    [InlineData("name~=\"^SHA\"", false)]
    [InlineData("labels.team==\"blue team\"", true)]
    [InlineData("labels.team==\"blue\\tteam\"", false)]
    [InlineData("labels.team", true)]
    [InlineData("labels.missing", false)]
    [InlineData("labels.empty", true)]
    [InlineData("labels.empty==\"\"", true)]
    [InlineData("labels.missing!=x", true)]
    [InlineData("labels.missing!=\"\"", false)]
    [InlineData("  name == sha256:abc , kind == committed  ", true)]
    [InlineData("parent", true)]
    [InlineData("name,parent,kind", true)]
    public void Matches_LayerSnapshot_FollowsContainerdSemantics(string filter, bool expected)
    {
        Assert.Equal(expected, Matches(Layer, filter));
    }

    [Fact]
    public void Matches_BaseSnapshot_ParentIsPresentAndEmpty()
    {
        Assert.True(Matches(Base, "parent==\"\""));
        Assert.True(Matches(Base, "parent"));
        Assert.False(Matches(Base, "parent!=\"\""));
        Assert.False(Matches(Layer, "parent==\"\""));
    }

    [Fact]
    public void Matches_SeveralFilterStrings_AnyOneSuffices()
    {
        var filter = SnapshotFilter.Parse(["kind==active", "kind==view"]);
        Assert.True(filter.Matches(Container));
        Assert.True(filter.Matches(ReadOnly));
        Assert.False(filter.Matches(Layer));
    }

    [Fact]
    public void Matches_ConditionsInOneString_AllMustHold()
    {
        Assert.False(Matches(Container, "kind==active,labels.team==blue"));
        Assert.True(Matches(Container, "kind==active,labels.team==red"));
    }

    [Fact]
    public void Parse_EmptyOrBlankStrings_MatchesEverything()
    {
        var filter = SnapshotFilter.Parse(["", "   "]);
        Assert.Same(SnapshotFilter.All, filter);
        Assert.True(filter.Matches(Layer));
        Assert.True(SnapshotFilter.Parse([]).Matches(Container));
    }

    [Fact]
    public void Parse_EscapesInQuotedValue_AreDecoded()
    {
        var info = Layer with { Labels = new Dictionary<string, string> { ["q"] = "a\"b\\c\nd" } };
        Assert.True(Matches(info, "labels.q==\"a\\\"b\\\\c\\nd\""));
    }

    [Fact]
    public void Parse_SlashQuotedRegexp_KeepsRegexEscapesAndUnescapesSlash()
    {
        var info = Layer with { Labels = new Dictionary<string, string> { ["path"] = "a/b.c" } };
        Assert.True(Matches(info, "labels.path~=/^a\\/b\\.c$/"));
        Assert.False(Matches(info with { Labels = new Dictionary<string, string> { ["path"] = "a/bxc" } }, "labels.path~=/^a\\/b\\.c$/"));
    }

    [Fact]
    public void Parse_CommaInsideQuotedValue_IsPartOfValue()
    {
        var info = Layer with { Labels = new Dictionary<string, string> { ["layers"] = "sha256:a,sha256:b" } };
        Assert.True(Matches(info, "labels.layers==\"sha256:a,sha256:b\",kind==committed"));
    }

    [Theory]
    [InlineData("foo==bar", "invalid filter 'foo==bar' at column 4: unknown field 'foo' (known: name, parent, kind, labels.<key>)")]
    [InlineData("labels==x", "invalid filter 'labels==x' at column 7: unknown field 'labels' (known: name, parent, kind, labels.<key>)")]
    [InlineData("name.x==y", "invalid filter 'name.x==y' at column 7: unknown field 'name.x' (known: name, parent, kind, labels.<key>)")]
    [InlineData("name=x", "invalid filter 'name=x' at column 5: expected an operator (==, != or ~=) but found '='")]
    [InlineData("name==", "invalid filter 'name==' at column 7: expected a value")]
    [InlineData("name==a b", "invalid filter 'name==a b' at column 9: expected ',' but found 'b'")]
    [InlineData("name==\"abc", "invalid filter 'name==\"abc' at column 11: unterminated quoted string (missing \")")]
    [InlineData("name~=/abc", "invalid filter 'name~=/abc' at column 11: unterminated quoted string (missing /)")]
    [InlineData("labels.\"k==v", "invalid filter 'labels.\"k==v' at column 13: unterminated quoted string (missing \")")]
    [InlineData(",name", "invalid filter ',name' at column 1: expected a field name but found ','")]
    [InlineData("name==a,", "invalid filter 'name==a,' at column 9: expected a field name")]
    [InlineData("labels.", "invalid filter 'labels.' at column 8: expected a field name")]
    [InlineData("=name", "invalid filter '=name' at column 1: expected a field name but found '='")]
    public void Parse_MalformedFilter_ThrowsInvalidArgumentWithPosition(string filter, string message)
    {
        var e = Assert.Throws<SnapshotterException>(() => SnapshotFilter.Parse([filter]));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Parse_InvalidRegexp_ThrowsInvalidArgumentNamingPattern()
    {
        var e = Assert.Throws<SnapshotterException>(() => SnapshotFilter.Parse(["name~=\"[a-\""]));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.StartsWith("invalid filter 'name~=\"[a-\"' at column 12: invalid regular expression '[a-':", e.Message);
    }

    [Fact]
    public void Parse_OneMalformedAmongSeveral_Throws()
    {
        var e = Assert.Throws<SnapshotterException>(() => SnapshotFilter.Parse(["name==a", "bogus"]));
        Assert.Contains("unknown field 'bogus'", e.Message);
    }
}
