using Snapshotter.Registry.Hosts;
using Snapshotter.Registry.Tests.Infrastructure;

namespace Snapshotter.Registry.Tests.Hosts;

public sealed class HostsConfigurationTests : IDisposable
{
    private readonly TempDirectory _dir = new("hosts-config");

    public void Dispose() => _dir.Dispose();

    private void Write(string registry, string toml)
    {
        Directory.CreateDirectory(_dir.Combine(registry));
        File.WriteAllText(_dir.Combine(registry, "hosts.toml"), toml);
    }

    [Theory]
    [InlineData("docker.io", "https://registry-1.docker.io/v2/")]
    [InlineData("ghcr.io", "https://ghcr.io/v2/")]
    [InlineData("localhost:5000", "http://localhost:5000/v2/")]
    [InlineData("127.0.0.1:5000", "http://127.0.0.1:5000/v2/")]
    [InlineData("[::1]:5000", "http://[::1]:5000/v2/")]
    public void GetHosts_NoConfiguration_ReturnsOriginWithDefaultScheme(string registry, string expected)
    {
        var config = new HostsConfiguration(_dir.Path);

        RegistryHost host = Assert.Single(config.GetHosts(registry));

        Assert.Equal(expected, host.BaseUri.ToString());
        Assert.Equal(HostCapabilities.All, host.Capabilities);
    }

    [Fact]
    public void GetHosts_MirrorsAndServer_KeepsFileOrderThenOrigin()
    {
        File.WriteAllText(_dir.Combine("ca.pem"), "");
        Write("docker.io", """
            server = "https://registry-1.docker.io"

            [host."https://mirror-b.example"]
              capabilities = ["pull"]
              ca = "../ca.pem"

            [host."mirror-a.example:5000/base"]
              skip_verify = true
              [host."mirror-a.example:5000/base".header]
                authorization-extra = ["x", "y"]
            """);
        var config = new HostsConfiguration(_dir.Path);

        IReadOnlyList<RegistryHost> hosts = config.GetHosts("docker.io");

        Assert.Equal(["https://mirror-b.example/v2/", "https://mirror-a.example:5000/base/v2/", "https://registry-1.docker.io/v2/"], hosts.Select(h => h.BaseUri.ToString()));
        Assert.Equal(HostCapabilities.Pull, hosts[0].Capabilities);
        Assert.Equal(Path.GetFullPath(_dir.Combine("docker.io", "../ca.pem")), Path.GetFullPath(hosts[0].CaFiles[0]));
        Assert.True(hosts[1].SkipVerify);
        Assert.Equal(HostCapabilities.All, hosts[1].Capabilities);
        Assert.Equal([new("authorization-extra", "x"), new("authorization-extra", "y")], hosts[1].Headers);
        Assert.Equal("mirror-a.example:5000", hosts[1].Authority);
    }

    [Fact]
    public void GetHosts_ServerRepeatedAsHost_ListsItOnce()
    {
        Write("reg.example:8080", """
            server = "http://reg.example:8080"
            [host."http://reg.example:8080"]
              capabilities = ["pull", "resolve", "push"]
              skip_verify = true
            """);

        RegistryHost host = Assert.Single(new HostsConfiguration(_dir.Path).GetHosts("reg.example:8080"));

        Assert.True(host.SkipVerify);
        Assert.Equal("http://reg.example:8080/v2/", host.BaseUri.ToString());
    }

    [Fact]
    public void GetHosts_OverridePath_KeepsPathAsIs()
    {
        Write("_default", """
            [host."https://proxy.example/registry/docker"]
              override_path = true
            """);

        IReadOnlyList<RegistryHost> hosts = new HostsConfiguration(_dir.Path).GetHosts("quay.io");

        Assert.Equal(["https://proxy.example/registry/docker/", "https://quay.io/v2/"], hosts.Select(h => h.BaseUri.ToString()));
    }

    [Fact]
    public void GetHosts_UnknownCapability_ThrowsWithFileName()
    {
        Write("bad.example", "[host.\"https://m.example\"]\ncapabilities = [\"fly\"]\n");

        var ex = Assert.Throws<RegistryException>(() => new HostsConfiguration(_dir.Path).GetHosts("bad.example"));

        Assert.Contains("fly", ex.Message, StringComparison.Ordinal);
        Assert.Contains("hosts.toml", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetHosts_ManyMirrorsWithLaterSubtables_KeepsFileOrder()
    {
        // Names sort differently from file order, and header subtables come after other hosts.
        Write("order.example", """
            [host."https://zeta.example"]
            [host."https://alpha.example"]
              capabilities = ["pull"]
            [host."https://mu.example"]
            [host."https://alpha.example".header]
              x-late = "1"
            [host."https://beta.example"]
            [host."https://zeta.example".header]
              x-late = "2"
            """);

        IReadOnlyList<RegistryHost> hosts = new HostsConfiguration(_dir.Path).GetHosts("order.example");

        Assert.Equal(
            ["https://zeta.example/v2/", "https://alpha.example/v2/", "https://mu.example/v2/", "https://beta.example/v2/", "https://order.example/v2/"],
            hosts.Select(h => h.BaseUri.ToString()));
        Assert.Equal([new("x-late", "1")], hosts[1].Headers);
        Assert.Equal([new("x-late", "2")], hosts[0].Headers);
    }

    [Fact]
    public void GetHosts_TopLevelKeys_ApplyToServer()
    {
        Write("top.example", """
            server = "https://top.example:8443/base/"
            capabilities = ["Pull", "RESOLVE", "referrers"]
            ca = ["ca1.pem", "/etc/abs/ca2.pem"]
            client = "client.pem"
            skip_verify = false
            dial_timeout = "1m30.5s"
            [header]
              x-one = "1"
              x-two = ["a", "b"]
            """);

        RegistryHost host = Assert.Single(new HostsConfiguration(_dir.Path).GetHosts("top.example"));

        Assert.Equal("https://top.example:8443/base/v2/", host.BaseUri.ToString());
        Assert.Equal(HostCapabilities.Pull | HostCapabilities.Resolve | HostCapabilities.Referrers, host.Capabilities);
        Assert.Equal([_dir.Combine("top.example", "ca1.pem"), "/etc/abs/ca2.pem"], host.CaFiles);
        Assert.Equal([new ClientCertificateFiles(_dir.Combine("top.example", "client.pem"), null)], host.ClientCertificates);
        Assert.False(host.SkipVerify);
        Assert.Equal(TimeSpan.FromSeconds(90.5), host.DialTimeout);
        Assert.Equal([new("x-one", "1"), new("x-two", "a"), new("x-two", "b")], host.Headers);
    }

    [Fact]
    public void GetHosts_ClientForms_ResolveRelativePathsAndEmptyKey()
    {
        Write("client.example", """
            [host."https://a.example"]
              client = ["one.pem", "/abs/two.pem"]
            [host."https://b.example"]
              client = [["c.cert", "../keys/c.key"], ["combined.pem", ""]]
            """);

        IReadOnlyList<RegistryHost> hosts = new HostsConfiguration(_dir.Path).GetHosts("client.example");

        Assert.Equal([new ClientCertificateFiles(_dir.Combine("client.example", "one.pem"), null), new ClientCertificateFiles("/abs/two.pem", null)], hosts[0].ClientCertificates);
        Assert.Equal(
            [new ClientCertificateFiles(_dir.Combine("client.example", "c.cert"), _dir.Combine("keys", "c.key")), new ClientCertificateFiles(_dir.Combine("client.example", "combined.pem"), null)],
            hosts[1].ClientCertificates);
        Assert.Empty(hosts[2].ClientCertificates);
        Assert.NotEqual(hosts[0].PoolKey, hosts[1].PoolKey);
        Assert.Equal("default", hosts[2].PoolKey);
    }

    [Fact]
    public void GetHosts_EmptyCapabilities_AllowsEverything()
    {
        Write("empty.example", "capabilities = []\n");

        Assert.Equal(HostCapabilities.All, Assert.Single(new HostsConfiguration(_dir.Path).GetHosts("empty.example")).Capabilities);
    }

    [Theory]
    [InlineData("[host.\"https://m\"]\ncapabilities = \"pull\"\n", "host \"https://m\": capabilities must be an array of strings")]
    [InlineData("[host.\"https://m\"]\nca = 3\n", "host \"https://m\": ca must be a string or an array of strings")]
    [InlineData("client = [[\"a\", \"b\", \"c\"]]\n", "client must be a path, an array of paths or an array of [certificate, key] pairs")]
    [InlineData("client = 1\n", "client must be a path")]
    [InlineData("skip_verify = \"yes\"\n", "skip_verify must be true or false")]
    [InlineData("override_path = 1\n", "override_path must be true or false")]
    [InlineData("server = 5\n", "server must be a string")]
    [InlineData("server = \"ftp://x\"\n", "\"ftp://x\" is not an http(s) URL")]
    [InlineData("[header]\nx = 1\n", "header \"x\" must be a string or an array of strings")]
    [InlineData("header = \"x\"\n", "header must be a table")]
    [InlineData("host = 1\n", "host must be a table")]
    [InlineData("[host.\"https://m\"]\ndial_timeout = \"10\"\n", "host \"https://m\": dial_timeout must be a duration")]
    [InlineData("dial_timeout = \"-1s\"\n", "dial_timeout must be a duration")]
    public void GetHosts_WrongType_ThrowsNamingFileAndKey(string toml, string expected)
    {
        Write("types.example", toml);

        var ex = Assert.Throws<RegistryException>(() => new HostsConfiguration(_dir.Path).GetHosts("types.example"));

        Assert.Equal(RegistryErrorKind.InvalidReference, ex.Kind);
        Assert.StartsWith($"hosts.toml {_dir.Combine("types.example", "hosts.toml")}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("server = \"unterminated\n", "line 1")]
    [InlineData("server = \"a\"\nserver = \"b\"\n", "line 2")]
    [InlineData("[host.\"https://m\"]\n[host.\"https://m\"]\n", "line 2")]
    [InlineData("capabilities = [\"pull\",\n", "line 2")]
    public void GetHosts_InvalidToml_ThrowsNamingFileAndLine(string toml, string expected)
    {
        Write("syntax.example", toml);

        var ex = Assert.Throws<RegistryException>(() => new HostsConfiguration(_dir.Path).GetHosts("syntax.example"));

        Assert.StartsWith($"hosts.toml {_dir.Combine("syntax.example", "hosts.toml")}: {expected}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetHosts_PortDirectoryWithUnderscores_PreferredOverColonName()
    {
        Write("reg.example:5000", "server = \"https://colon.example\"\n");
        Write("reg.example_5000_", "server = \"https://underscore.example\"\n");

        RegistryHost host = Assert.Single(new HostsConfiguration(_dir.Path).GetHosts("reg.example:5000"));

        Assert.Equal("https://underscore.example/v2/", host.BaseUri.ToString());
    }

    [Fact]
    public void GetHosts_DirectoryWithoutHostsToml_UsesDockerCertificateFiles()
    {
        string dir = Directory.CreateDirectory(_dir.Combine("certs.example")).FullName;
        foreach (string name in new[] { "b.crt", "a.crt", "client.cert", "client.key", "other.cert", "ignored.pem" })
        {
            File.WriteAllText(Path.Combine(dir, name), "");
        }

        // The registry's own directory exists, so _default is not consulted (containerd picks the first directory).
        Write("_default", "server = \"https://elsewhere.example\"\n");

        RegistryHost host = Assert.Single(new HostsConfiguration(_dir.Path).GetHosts("certs.example"));

        Assert.Equal("https://certs.example/v2/", host.BaseUri.ToString());
        Assert.Equal([Path.Combine(dir, "a.crt"), Path.Combine(dir, "b.crt")], host.CaFiles);
        Assert.Equal([new ClientCertificateFiles(Path.Combine(dir, "client.cert"), Path.Combine(dir, "client.key")), new ClientCertificateFiles(Path.Combine(dir, "other.cert"), null)], host.ClientCertificates);
    }
}
