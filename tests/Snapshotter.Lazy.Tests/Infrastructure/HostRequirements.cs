namespace Snapshotter.Lazy.Tests.Infrastructure;

/// <summary>
/// What the tests need from the host. A missing prerequisite fails the test with a message saying what is missing
/// (never a skip): the host tier is expected to run as root with docker-registry and loop devices.
/// </summary>
internal static class HostRequirements
{
    public static void Root()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Fail("these tests mount EROFS and tmpfs and attach loop devices: run them as root (sudo scripts/test.sh Snapshotter.Lazy.Tests)");
        }
    }

    public static void DockerRegistry()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries);
        if (!path.Any(dir => File.Exists(Path.Combine(dir, "docker-registry"))))
        {
            Assert.Fail("docker-registry is not on PATH: install the Debian package docker-registry (scripts/test.sh does)");
        }
    }

    public static void LoopControl()
    {
        if (!File.Exists("/dev/loop-control"))
        {
            Assert.Fail("/dev/loop-control is missing: the loop-device mount path needs the loop driver (modprobe loop)");
        }
    }

    public static void ErofsKernel()
    {
        if (!File.ReadAllText("/proc/filesystems").Contains("erofs", StringComparison.Ordinal))
        {
            Assert.Fail("the kernel has no EROFS (CONFIG_EROFS_FS; try modprobe erofs)");
        }
    }

    /// <summary>Everything a mount test needs.</summary>
    public static void Mounting()
    {
        Root();
        ErofsKernel();
    }
}
