using Xunit.Abstractions;

namespace Snapshotter.Fuse.Tests.Infrastructure;

/// <summary>A <see cref="FuseServer"/> mounted on a fresh temp directory; disposing unmounts and removes it.</summary>
internal sealed class FuseMount : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private FuseMount(TempDirectory directory, FuseServer server)
    {
        _directory = directory;
        Server = server;
    }

    public FuseServer Server { get; }

    public string Path => Server.MountPoint;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public static FuseMount Start(ITestOutputHelper output, FuseServerOptions? options = null, params IFuseFile[] files)
    {
        FuseEnvironment.RequireFuse();
        var directory = new TempDirectory("fuse-mnt");
        var server = FuseServer.Mount(directory.Path, options ?? new FuseServerOptions(), new TestOutputLogger(output));
        foreach (var file in files)
        {
            server.Add(file);
        }

        return new FuseMount(directory, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _directory.Dispose();
    }
}
