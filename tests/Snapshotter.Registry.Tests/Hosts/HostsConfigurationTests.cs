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
}
