using Microsoft.Win32.SafeHandles;
using Snapshotter.Erofs.Building;
using Snapshotter.Lazy.Interop;
using Tmds.Linux;
using Snapshotter.Interop;

namespace Snapshotter.Lazy.Mounting;

/// <summary>
/// Mounts a bootstrap with its data blobs as local files: EROFS straight from regular files on kernels that can
/// (CONFIG_EROFS_FS_BACKED_BY_FILE, Linux 6.12+: mount(2) with the file as source and <c>device=</c> per blob; util-linux
/// mount would make loop devices instead), else through read-only loop devices.
/// </summary>
internal static class ErofsMounts
{
    // mount(2) copies at most one page of options.
    private const int MaxMountData = 4000;

    /// <summary>
    /// Whether this kernel mounts EROFS from a regular file: mounts a tiny image built in <paramref name="workDirectory"/>
    /// and unmounts it again. Returns false with the kernel's answer in <paramref name="reason"/> otherwise; throws
    /// FailedPrecondition when the kernel has no EROFS at all.
    /// </summary>
    public static bool ProbeFileBacked(string workDirectory, out string reason)
    {
        var dir = Directory.CreateDirectory(Path.Combine(workDirectory, "probe-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var image = Path.Combine(dir, "probe.erofs");
        var target = Directory.CreateDirectory(Path.Combine(dir, "mnt")).FullName;
        try
        {
            File.WriteAllBytes(image, new ImageBuilder().BuildBootstrap());
            MountCalls.Mount(image, target, "erofs", LibC.MS_RDONLY, null);
            MountTable.Unmount(target);
            reason = "the kernel mounts EROFS from regular files";
            return true;
        }
        catch (SyscallException e) when (e.ErrorNumber == LibC.ENODEV)
        {
            throw new SnapshotterException(ErrorKind.FailedPrecondition, $"the kernel has no EROFS (CONFIG_EROFS_FS): {e.Message}", e);
        }
        catch (SyscallException e)
        {
            reason = $"EROFS cannot be mounted from a regular file here ({e.Message})";
            return false;
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Still mounted after a failed unmount: leave it, the name is unique.
            }
        }
    }

    /// <summary>
    /// Mounts <paramref name="bootstrap"/> with <paramref name="blobs"/> (in device-table order) read-only at
    /// <paramref name="mountPoint"/>. <paramref name="linkDirectory"/> may hold short symlinks when the device paths do not
    /// fit one page of mount options. <paramref name="extraOptions"/> (e.g. <c>directio</c>) are appended to a
    /// file-backed mount's options.
    /// </summary>
    public static void Mount(string bootstrap, IReadOnlyList<string> blobs, string mountPoint, bool fileBacked, string linkDirectory, string? extraOptions = null)
    {
        if (fileBacked)
        {
            var devices = FitOptions(blobs, linkDirectory, extraOptions is null ? 0 : extraOptions.Length + 1);
            var options = DeviceOptions(devices);
            if (extraOptions is not null)
            {
                options = options is null ? extraOptions : options + "," + extraOptions;
            }

            MountCalls.Mount(bootstrap, mountPoint, "erofs", LibC.MS_RDONLY, options);
            return;
        }

        var handles = new List<SafeFileHandle>(blobs.Count + 1);
        try
        {
            var (source, handle) = LoopCalls.Attach(bootstrap);
            handles.Add(handle);
            var devices = new List<string>(blobs.Count);
            foreach (var blob in blobs)
            {
                var (device, h) = LoopCalls.Attach(blob);
                handles.Add(h);
                devices.Add(device);
            }

            MountCalls.Mount(source, mountPoint, "erofs", LibC.MS_RDONLY, DeviceOptions(devices));
        }
        finally
        {
            // Autoclear: each loop device now lives exactly as long as the mount holds it.
            foreach (var handle in handles)
            {
                handle.Dispose();
            }
        }
    }

    private static string? DeviceOptions(IReadOnlyList<string> devices) =>
        devices.Count == 0 ? null : string.Join(',', devices.Select(d => "device=" + d));

    private static IReadOnlyList<string> FitOptions(IReadOnlyList<string> blobs, string linkDirectory, int reserved)
    {
        if ((DeviceOptions(blobs)?.Length ?? 0) + reserved <= MaxMountData)
        {
            return blobs;
        }

        // The kernel opens each device path (following symlinks) once at mount time; short links keep many layers within a page.
        Directory.CreateDirectory(linkDirectory);
        var links = new List<string>(blobs.Count);
        for (var i = 0; i < blobs.Count; i++)
        {
            var link = Path.Combine(linkDirectory, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            File.Delete(link);
            File.CreateSymbolicLink(link, blobs[i]);
            links.Add(link);
        }

        if ((DeviceOptions(links)?.Length ?? 0) + reserved > MaxMountData)
        {
            throw new SyscallException("mount", LibC.E2BIG, $"erofs with {blobs.Count} devices: the device options do not fit one page");
        }

        return links;
    }
}
