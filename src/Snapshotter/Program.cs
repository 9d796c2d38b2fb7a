using System.CommandLine;
using Snapshotter.Cli;

namespace Snapshotter;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand(
            "containerd remote snapshotter that lazily pulls container images: containers start before their " +
            "images are downloaded. Ordinary OCI images are unpacked onto overlayfs.")
        {
            ServeCommand.Create(),
            RegistryCommand.Create(),
            ConvertCommand.Create(),
            InspectCommand.Create(),
            MountCommand.Create(),
            CheckCommand.Create(),
        };
        // The ASP.NET Core host handles SIGTERM/SIGINT itself (graceful drain of in-flight calls);
        // System.CommandLine's own handler would force an exit after 2 s.
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
