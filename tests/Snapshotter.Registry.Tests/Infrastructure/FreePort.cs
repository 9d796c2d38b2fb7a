using System.Net;
using System.Net.Sockets;

namespace Snapshotter.Registry.Tests.Infrastructure;

internal static class FreePort
{
    /// <summary>Returns a loopback port that was free a moment ago.</summary>
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
