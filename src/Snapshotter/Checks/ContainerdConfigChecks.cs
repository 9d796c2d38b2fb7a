using System.Diagnostics;
using System.Text.RegularExpressions;
using Tomlyn;
using Tomlyn.Model;

namespace Snapshotter.Checks;

/// <summary>
/// Whether containerd will use <c>serve</c>: its config has a <c>[proxy_plugins.NAME]</c> of type snapshot on serve's
/// socket, CRI passes the snapshot annotations (<c>disable_snapshot_annotations = false</c>, in the layout of the config's
/// version: 1 <c>plugins.cri</c>, 2 <c>plugins."io.containerd.grpc.v1.cri".containerd</c>, 3
/// <c>plugins.'io.containerd.cri.v1.images'</c>) and uses the plugin, and on containerd 2.1+ the transfer service unpacks
/// with it and may pass the remote-snapshot labels. Problems are WARN: serve itself runs without containerd.
/// </summary>
internal static partial class ContainerdConfigChecks
{
    /// <summary>containerd's own default path.</summary>
    public const string DefaultPath = "/etc/containerd/config.toml";

    private const string V2Cri = "io.containerd.grpc.v1.cri";
    private const string V3Images = "io.containerd.cri.v1.images";
    private const string Transfer = "io.containerd.transfer.v1.local";

    public static IEnumerable<CheckResult> Run(string path, string address)
    {
        if (!File.Exists(path))
        {
            yield return CheckResult.Warn(
                "containerd.config",
                $"{path} does not exist: containerd runs on its defaults, which have no proxy snapshotter",
                $"create it with the snippet in deploy/containerd-config.toml (containerd 1.x) or deploy/containerd-config-v3.toml (2.x), or pass --containerd-config");
            yield break;
        }

        ContainerdConfigFile config;
        string? error = null;
        try
        {
            config = ContainerdConfigFile.Load(path);
        }
        catch (Exception e) when (e is TomlException or IOException or UnauthorizedAccessException)
        {
            config = null!;
            error = e is TomlException t && t.Diagnostics is { Count: > 0 } d ? d[0].ToString() : e.Message.Trim();
        }

        if (error is not null)
        {
            yield return CheckResult.Warn("containerd.config", $"{path} cannot be read: {error}", "fix the file; containerd refuses to start on it too");
            yield break;
        }

        var containerd = InstalledVersion();
        var files = config.Files.Count == 1 ? path : $"{path} with imports {string.Join(", ", config.Files.Skip(1))}";
        yield return CheckResult.Ok(
            "containerd.config",
            $"{files}: config version {config.Version}" + (containerd is null ? string.Empty : $"; installed: containerd {containerd}"));

        var plugin = ProxyPlugin(config, address, out var proxyResult);
        yield return proxyResult;
        foreach (var result in Cri(config, plugin))
        {
            yield return result;
        }

        yield return TransferService(config, plugin, containerd);
    }

    /// <summary>The name of the proxy snapshotter on <paramref name="address"/>, or null.</summary>
    private static string? ProxyPlugin(ContainerdConfigFile config, string address, out CheckResult result)
    {
        const string Name = "containerd.proxy_plugin";
        var others = new List<string>();
        if (config.Get("proxy_plugins") is TomlTable proxies)
        {
            foreach (var (name, value) in proxies)
            {
                if (value is not TomlTable plugin || (plugin.TryGetValue("type", out var type) ? type as string : null) != "snapshot")
                {
                    continue;
                }

                var at = plugin.TryGetValue("address", out var a) ? a as string ?? string.Empty : string.Empty;
                if (SamePath(at, address))
                {
                    result = CheckResult.Ok(Name, $"[proxy_plugins.{name}] type = \"snapshot\", address = \"{at}\"");
                    return name;
                }

                others.Add($"[proxy_plugins.{name}] at \"{at}\"");
            }
        }

        var found = others.Count == 0 ? "no [proxy_plugins.NAME] of type \"snapshot\"" : $"only {string.Join(", ", others)}";
        result = CheckResult.Warn(
            Name,
            $"{found} with address = \"{address}\": containerd does not know this snapshotter",
            $"add [proxy_plugins.nydus] with type = \"snapshot\" and address = \"{address}\" to the containerd config, then restart containerd");
        return null;
    }

    private static IEnumerable<CheckResult> Cri(ContainerdConfigFile config, string? plugin)
    {
        var (table, keys) = config.Version switch
        {
            >= 3 => ($"[plugins.'{V3Images}']", (string[])["plugins", V3Images]),
            2 => ($"[plugins.\"{V2Cri}\".containerd]", ["plugins", V2Cri, "containerd"]),
            _ => ("[plugins.cri.containerd]", ["plugins", "cri", "containerd"]),
        };
        var annotations = config.Get([.. keys, "disable_snapshot_annotations"]);
        yield return annotations switch
        {
            false => CheckResult.Ok("containerd.cri_annotations", $"{table} disable_snapshot_annotations = false: CRI passes image and layer references to the snapshotter"),
            true => CheckResult.Warn(
                "containerd.cri_annotations",
                $"{table} disable_snapshot_annotations = true: CRI (Kubernetes) pulls never reach the snapshotter lazily",
                $"set disable_snapshot_annotations = false in {table}, then restart containerd"),
            null => CheckResult.Warn(
                "containerd.cri_annotations",
                $"{table} disable_snapshot_annotations is not set (containerd's default is true): CRI (Kubernetes) pulls never reach the snapshotter lazily",
                $"set disable_snapshot_annotations = false in {table}, then restart containerd"),
            _ => CheckResult.Warn(
                "containerd.cri_annotations",
                $"{table} disable_snapshot_annotations = {annotations} is not a boolean",
                $"set disable_snapshot_annotations = false in {table}"),
        };

        var snapshotter = config.Get([.. keys, "snapshotter"]) as string;
        yield return plugin is not null && snapshotter == plugin
            ? CheckResult.Ok("containerd.cri_snapshotter", $"{table} snapshotter = \"{plugin}\": CRI unpacks every image with this snapshotter")
            : CheckResult.Warn(
                "containerd.cri_snapshotter",
                $"{table} snapshotter = \"{snapshotter ?? "overlayfs"}\"{(snapshotter is null ? " (the default)" : string.Empty)}: CRI does not use {(plugin is null ? "this snapshotter" : $"\"{plugin}\"")}",
                plugin is null ? "add the proxy plugin first" : $"set snapshotter = \"{plugin}\" in {table} (ctr and nerdctl can still pick it with --snapshotter)");
    }

    private static CheckResult TransferService(ContainerdConfigFile config, string? plugin, string? installed)
    {
        const string Name = "containerd.transfer";
        var needed = config.Version >= 3 || (installed is not null && VersionAtLeast(installed, 2, 1));
        if (!needed)
        {
            return CheckResult.Ok(Name, installed is null
                ? $"not needed with a version {config.Version} config (containerd 1.x pulls without the transfer service)"
                : $"not needed: containerd {installed} pulls without the transfer service");
        }

        var name = plugin ?? "nydus";
        var problems = new List<string>();
        var exports = config.Get("proxy_plugins", name, "exports", "enable_remote_snapshot_annotations");
        if (exports as string != "true")
        {
            problems.Add($"[proxy_plugins.{name}.exports] enable_remote_snapshot_annotations = \"true\" is missing{(exports is null ? string.Empty : $" (found {exports}; it must be the string \"true\")")}");
        }

        var unpack = config.Get("plugins", Transfer, "unpack_config") as TomlTableArray;
        if (unpack is null || !unpack.Any(u => u.TryGetValue("snapshotter", out var s) && s as string == name))
        {
            problems.Add($"no [[plugins.'{Transfer}'.unpack_config]] with snapshotter = \"{name}\"");
        }

        return problems.Count == 0
            ? CheckResult.Ok(Name, $"the transfer service unpacks with \"{name}\" and passes remote-snapshot labels to it")
            : CheckResult.Warn(
                Name,
                $"containerd 2.1+ pulls through the transfer service: {string.Join("; ", problems)}",
                "add them as in deploy/containerd-config-v3.toml, then restart containerd");
    }

    private static bool SamePath(string configured, string address)
    {
        var path = configured.StartsWith("unix://", StringComparison.Ordinal) ? configured["unix://".Length..] : configured;
        return path.Length > 0 && Path.GetFullPath(path) == Path.GetFullPath(address);
    }

    /// <summary>The version of the installed <c>containerd</c> (e.g. <c>1.6.20</c>), or null when there is none on PATH.</summary>
    private static string? InstalledVersion()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("containerd", "--version")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(5000))
            {
                process.Kill();
                return null;
            }

            return VersionPattern().Match(output.Result) is { Success: true } m ? m.Groups[1].Value : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static bool VersionAtLeast(string version, int major, int minor)
    {
        var parts = version.Split('.', '-', '+');
        return parts.Length >= 2 && int.TryParse(parts[0], out var a) && int.TryParse(parts[1], out var b) && (a > major || (a == major && b >= minor));
    }

    // "containerd github.com/containerd/containerd v1.6.20 2806fc1" or Debian's "containerd containerd.io 1.6.20~ds1 ...".
    [GeneratedRegex(@"\sv?(\d+\.\d+(?:\.\d+)?)")]
    private static partial Regex VersionPattern();
}
