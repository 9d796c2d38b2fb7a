namespace Snapshotter.Registry.Tests.Infrastructure;

internal static class TestClients
{
    /// <summary>Options isolated from the machine: no hosts dir, no docker config, short timeouts and backoffs.</summary>
    public static RegistryClientOptions Options(string? dockerConfig = null, string? hostsDir = null) => new()
    {
        HostsDirectory = hostsDir,
        DockerConfigPath = dockerConfig ?? "/nonexistent/config.json",
        AttemptTimeout = TimeSpan.FromSeconds(10),
        OverallTimeout = TimeSpan.FromSeconds(30),
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromSeconds(3),
    };

    public static byte[] RandomBytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Writes a docker config.json with <c>auths</c> for one host and returns its path.</summary>
    public static string WriteDockerConfig(TempDirectory dir, string json)
    {
        string path = dir.Combine("config.json");
        File.WriteAllText(path, json);
        return path;
    }

    public static string BasicAuth(string user, string password) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(user + ":" + password));
}
