using Microsoft.Extensions.Logging;
using Snapshotter.Fuse;
using Snapshotter.Fuse.Benchmarks;

return args.FirstOrDefault() switch
{
    "serve" when args.Length >= 2 => await ServeAsync(args[1], args[2..]),
    "run" when args.Length >= 2 => await BenchmarkRunner.RunAsync(args[1], args[2..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Snapshotter.Fuse.Benchmarks serve MOUNTPOINT NAME=PATH...   serve local files until SIGTERM (prints "ready")
               Snapshotter.Fuse.Benchmarks run WORKDIR [--size-mib N] [--random-reads N] [--rounds N]
        """);
    return 2;
}

static async Task<int> ServeAsync(string mountPoint, string[] files)
{
    using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
    var server = FuseServer.Mount(mountPoint, new FuseServerOptions(), loggerFactory.CreateLogger("fuse"));
    var locals = new List<LocalFuseFile>();
    foreach (var spec in files)
    {
        var eq = spec.IndexOf('=');
        var file = new LocalFuseFile(spec[..eq], spec[(eq + 1)..]);
        locals.Add(file);
        server.Add(file);
    }

    Console.WriteLine("ready");
    var stop = new TaskCompletionSource();
    using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
    {
        c.Cancel = true;
        stop.TrySetResult();
    });
    await Task.WhenAny(stop.Task, server.Completion);
    await server.DisposeAsync();
    locals.ForEach(f => f.Dispose());
    return 0;
}
