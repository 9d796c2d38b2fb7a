using Snapshotter.Registry.Hosts;

namespace Snapshotter.Registry.Tests.Hosts;

public sealed class TomlReaderTests
{
    [Fact]
    public void Parse_HostsTomlExample_ReadsTablesArraysAndComments()
    {
        const string toml = """
            # mirror first
            server = "https://registry-1.docker.io"   # origin

            [host."https://mirror.example:8443/v2/proxy"]
              capabilities = ["pull",
                              "resolve"]   # multi-line array
              skip_verify = false
              ca = ['/etc/ca.pem', "rel.pem"]
              override_path = true
              [host."https://mirror.example:8443/v2/proxy".header]
                x-custom = "a \"quoted\" \u00e9"
                x-list = ["1", "2"]
            """;

        Dictionary<string, object> doc = TomlReader.Parse(toml);

        Assert.Equal("https://registry-1.docker.io", doc["server"]);
        var host = (Dictionary<string, object>)((Dictionary<string, object>)doc["host"])["https://mirror.example:8443/v2/proxy"];
        Assert.Equal(new List<object> { "pull", "resolve" }, host["capabilities"]);
        Assert.Equal(false, host["skip_verify"]);
        Assert.Equal(true, host["override_path"]);
        Assert.Equal(new List<object> { "/etc/ca.pem", "rel.pem" }, host["ca"]);
        var header = (Dictionary<string, object>)host["header"];
        Assert.Equal("a \"quoted\" \u00e9", header["x-custom"]);
        Assert.Equal(new List<object> { "1", "2" }, header["x-list"]);
    }

    [Fact]
    public void Parse_InlineTableAndDottedKeys_BuildNestedTables()
    {
        Dictionary<string, object> doc = TomlReader.Parse("a.b = 1\nc = { d = 'x', e = -2 }\n");

        Assert.Equal(1L, ((Dictionary<string, object>)doc["a"])["b"]);
        var c = (Dictionary<string, object>)doc["c"];
        Assert.Equal("x", c["d"]);
        Assert.Equal(-2L, c["e"]);
    }

    [Theory]
    [InlineData("server = \"unterminated\n", ":1: unterminated string")]
    [InlineData("a = 1\na = 2\n", ":2: duplicate key")]
    [InlineData("[[array]]\n", "arrays of tables")]
    [InlineData("a = 1 b = 2\n", "expected the end of the line")]
    [InlineData("x = nope\n", "expected a string")]
    public void Parse_InvalidInput_ThrowsFormatExceptionWithLine(string toml, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => TomlReader.Parse(toml, "hosts.toml"));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("hosts.toml:", ex.Message, StringComparison.Ordinal);
    }
}
