using System.Text;

namespace Snapshotter.P1.Benchmarks.Image;

/// <summary>
/// The P1 image: ~200 MiB of real files from this machine in 4 layers, like a real application image - shared
/// libraries, /usr/share trees (many small files), a .NET runtime (a few big files) and an application layer - with a
/// static busybox as the shell. Deterministic for a given machine: fixed order, modes, owners and mtimes.
/// </summary>
internal static class BenchImageSpec
{
    /// <summary>Cache key of the generated image; change it whenever the spec below changes.</summary>
    public const string Version = "p1-v1";

    public const string Tag = "v1";

    public const string RuntimeDir = "/usr/lib/dotnet/shared/Microsoft.NETCore.App/10.0";

    public const string BigFile = RuntimeDir + "/System.Private.CoreLib.dll";

    /// <summary>Bytes of <see cref="BigFile"/> the command reads.</summary>
    public const long BigFileRead = 8L * 1024 * 1024;

    private const long MiB = 1024 * 1024;

    /// <summary>Small files the command reads after the first line (one or more per layer).</summary>
    public static readonly string[] SmallFiles =
    [
        "/etc/passwd",
        "/usr/share/zoneinfo/Europe/Paris",
        "/usr/share/i18n/SUPPORTED",
        RuntimeDir + "/Microsoft.NETCore.App.deps.json",
        "/app/appsettings.json",
    ];

    /// <summary>
    /// The container's command: the first line comes from <c>/etc/os-release</c> (P1 stops there), then a few small
    /// files, part of one big file (its byte count is printed), and <c>ready</c>.
    /// </summary>
    public static string[] Command =>
    [
        "/bin/busybox", "sh", "-c",
        $"cat /etc/os-release; cat {string.Join(' ', SmallFiles)} > /dev/null; head -c {BigFileRead} {BigFile} | wc -c; echo ready",
    ];

    public static IReadOnlyList<LayerSpec> Layers()
    {
        var netcore = HostRuntimeDirectory("Microsoft.NETCore.App");
        var aspnet = HostRuntimeDirectory("Microsoft.AspNetCore.App");

        var bases = new LayerSpec("base: busybox, /etc, shared libraries", 56 * MiB);
        bases.HostFiles.Add(("/usr/bin/busybox", "/bin/busybox"));
        bases.HostFiles.Add(("/etc/os-release", "/etc/os-release"));
        bases.Files.Add(("/etc/passwd", Encoding.ASCII.GetBytes("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"), (UnixFileMode)0x1A4));
        bases.Files.Add(("/etc/group", Encoding.ASCII.GetBytes("root:x:0:\nnogroup:x:65534:\n"), (UnixFileMode)0x1A4));
        foreach (var applet in new[] { "sh", "cat", "head", "wc", "echo", "ls", "tail" })
        {
            bases.Symlinks.Add(($"/bin/{applet}", "busybox"));
        }

        bases.Trees.Add(new TreeSource("/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", MaxFileBytes: 16 * MiB, NameContains: ".so"));

        var share = new LayerSpec("share: zoneinfo, i18n, doc, locale (many small files)", 44 * MiB);
        foreach (var tree in new[] { "zoneinfo", "i18n", "doc", "locale" })
        {
            share.Trees.Add(new TreeSource($"/usr/share/{tree}", $"/usr/share/{tree}", MaxFileBytes: 4 * MiB));
        }

        var runtime = new LayerSpec(".NET runtime (a few big files)", long.MaxValue);
        runtime.Trees.Add(new TreeSource(netcore, RuntimeDir));

        var app = new LayerSpec("app: ASP.NET Core libraries, settings", long.MaxValue);
        app.Trees.Add(new TreeSource(aspnet, "/app/lib"));
        app.Files.Add(("/app/appsettings.json", Encoding.ASCII.GetBytes("{\n  \"Logging\": { \"LogLevel\": { \"Default\": \"Information\" } },\n  \"Urls\": \"http://0.0.0.0:8080\"\n}\n"), (UnixFileMode)0x1A4));
        return [bases, share, runtime, app];
    }

    /// <summary>The warm-up image: one small layer (busybox and a text file), sharing no blob with the benchmark image.</summary>
    public static IReadOnlyList<LayerSpec> WarmLayers()
    {
        var warm = new LayerSpec("warm-up: busybox", long.MaxValue);
        warm.HostFiles.Add(("/usr/bin/busybox", "/bin/busybox"));
        warm.Files.Add(("/etc/warm-up", Encoding.ASCII.GetBytes("the P1 harness's warm-up image\n"), (UnixFileMode)0x1A4));
        return [warm];
    }

    /// <summary>The newest installed version directory of a shared framework (the SDK's, e.g. /usr/share/dotnet/shared/NAME/10.0.12).</summary>
    private static string HostRuntimeDirectory(string name)
    {
        var root = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(typeof(object).Assembly.Location))!, "..", name);
        var versions = Directory.GetDirectories(Path.GetFullPath(root))
            .OrderBy(d => System.Version.TryParse(Path.GetFileName(d), out var v) ? v : new System.Version(0, 0)).ToArray();
        return versions.Length > 0 ? versions[^1] : throw new DirectoryNotFoundException($"no {name} under {Path.GetFullPath(root)}");
    }
}
