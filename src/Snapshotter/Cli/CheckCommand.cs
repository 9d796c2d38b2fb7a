using System.CommandLine;
using Snapshotter.Checks;

namespace Snapshotter.Cli;

/// <summary>
/// <c>snapshotter check [serve's flags] [--containerd-config FILE] [--json]</c>: what this host supports and which lazy
/// mode <c>serve</c> will use, from the same configuration sources as serve. Exit 0 when serve can run, 1 when it cannot
/// (the failed checks say why), 2 for a bad configuration or bad arguments.
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var options = new ServeOptions();
        var containerdConfig = new Option<string>("--containerd-config")
        {
            Description = $"containerd's config to check for the proxy plugin and CRI settings (its imports are read too). Default: {ContainerdConfigChecks.DefaultPath}.",
            DefaultValueFactory = _ => ContainerdConfigChecks.DefaultPath,
            HelpName = "FILE",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object: {\"schema\": 1, \"checks\": [{\"name\", \"status\": \"ok\"|\"warn\"|\"fail\", \"detail\", \"hint\"}], \"lazy_mode\", \"reason\", \"can_serve\"}.",
        };
        var command = new Command(
            "check",
            "Check this host for `snapshotter serve` with the same flags, config file and environment: kernel, privileges, root " +
            "and socket directories, overlayfs (a test mount), EROFS and EROFS from regular files, FUSE, loop devices, cachefiles " +
            "on-demand (a real bind on the cache directory, released again), the cache directory's filesystem, free space, user " +
            "xattrs and O_TMPFILE, containerd's config (proxy plugin, CRI snapshot annotations, transfer service), and the lazy " +
            "mode serve will use and why. One line per check: OK, WARN (serve works around it, e.g. by falling back to another " +
            "lazy mode) or FAIL (serve cannot run), with what to do. Exit 0 when serve can run, 1 when it cannot, 2 for a bad " +
            "configuration. Probes leave nothing behind.");
        options.AddTo(command);
        command.Options.Add(containerdConfig);
        command.Options.Add(json);
        command.SetAction(async (ParseResult result, CancellationToken cancellationToken) =>
        {
            if (await options.TryLoadAsync(result, "snapshotter check") is not { } config)
            {
                return 2;
            }

            var report = HostCheck.Run(config, Path.GetFullPath(result.GetValue(containerdConfig)!));
            if (result.GetValue(json))
            {
                await using var stdout = Console.OpenStandardOutput();
                CheckReportWriter.WriteJson(report, stdout);
            }
            else
            {
                CheckReportWriter.WriteText(report, Console.Out);
            }

            if (report.CanServe)
            {
                return 0;
            }

            await Console.Error.WriteLineAsync(
                $"snapshotter check: serve cannot run: {string.Join("; ", report.Failures.Select(f => $"{f.Name}: {f.Detail}"))}");
            return 1;
        });
        return command;
    }
}
