namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>
/// Finds the real tools the integration tests drive. A missing tool or missing root is a test
/// FAILURE naming what to install, never a silent skip.
/// </summary>
internal static class Tools
{
    private static readonly Dictionary<string, string> Packages = new(StringComparer.Ordinal)
    {
        ["containerd"] = "containerd",
        ["ctr"] = "containerd",
        ["runc"] = "runc",
        ["umoci"] = "umoci",
        ["tar"] = "tar",
        ["dotnet"] = "the .NET 10 SDK",
        ["ctr-remote"] = "stargz-snapshotter",
        ["docker-registry"] = "docker-registry",
        ["skopeo"] = "skopeo",
        ["getfattr"] = "attr",
    };

    /// <summary>Returns the absolute path of <paramref name="name"/> (or the path itself if it is absolute).</summary>
    public static string Require(string name)
    {
        if (Path.IsPathRooted(name))
        {
            return File.Exists(name) ? name : throw new FileNotFoundException($"required tool {name} is missing", name);
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':').Concat(["/usr/sbin", "/sbin"]))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        string package = Packages.TryGetValue(name, out string? p) ? p : name;
        throw new FileNotFoundException($"required tool '{name}' was not found on PATH; install it (apt-get install -y {package})", name);
    }

    /// <summary>The integration tests mount filesystems and run containers: they need root.</summary>
    public static void RequireRoot()
    {
        if (!Interop.TestLibc.IsRoot)
        {
            throw new InvalidOperationException("the integration tests need root (they run containerd, mount overlayfs and start containers)");
        }
    }

    /// <summary>The binary (or /usr/bin/busybox) busybox-static installs: statically linked, so it runs alone in an image.</summary>
    public static string RequireStaticBusybox()
    {
        const string path = "/bin/busybox";
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("required tool /bin/busybox is missing; install it (apt-get install -y busybox-static)", path);
        }

        return path;
    }
}
