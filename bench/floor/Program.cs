using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Snapshotter.FloorServer;

// `floor-server serve --root DIR --address SOCKET [...]`: the arguments the foundation harness passes to the service.
var address = args[Array.IndexOf(args, "--address") + 1];
Directory.CreateDirectory(args[Array.IndexOf(args, "--root") + 1]);
if (File.Exists(address))
{
    File.Delete(address);
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(address, l => l.Protocols = HttpProtocols.Http2));
builder.Services.AddGrpc();
builder.Services.AddSingleton<InMemorySnapshots>();
var app = builder.Build();
app.MapGrpcService<InMemorySnapshots>();
await app.RunAsync();
