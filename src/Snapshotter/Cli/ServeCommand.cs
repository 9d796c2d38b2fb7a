using System.CommandLine;
using Snapshotter.Hosting;

namespace Snapshotter.Cli;

/// <summary><c>snapshotter serve</c>: runs the containerd snapshotter daemon.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var options = new ServeOptions();
        var command = new Command(
            "serve",
            "Serve containerd's snapshots API (proxy plugin of type \"snapshot\") on a unix socket. Ordinary images are unpacked " +
            "onto overlayfs; lazily pullable images (converted with `snapshotter convert`, pulled with CRI or ctr-remote images " +
            "rpull) take containerd's remote-snapshot path and are mounted lazily (see --lazy-mode). " +
            "Settings come from defaults, then the config file, then SNAPSHOTTER_* environment variables, then flags. " +
            "SIGTERM/SIGINT finish in-flight calls, remove the socket and exit 0. `snapshotter check` with the same flags " +
            "tells whether this host can serve and in which lazy mode.");
        options.AddTo(command);
        command.SetAction(async (ParseResult result, CancellationToken cancellationToken) =>
        {
            if (await options.TryLoadAsync(result, "snapshotter") is not { } effective)
            {
                return 2;
            }

            try
            {
                return await ServiceHost.RunAsync(effective, cancellationToken);
            }
            catch (ConfigException e)
            {
                await Console.Error.WriteLineAsync($"snapshotter: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
