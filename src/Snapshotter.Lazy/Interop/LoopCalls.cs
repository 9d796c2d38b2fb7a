using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using Snapshotter.Interop;

namespace Snapshotter.Lazy.Interop;

/// <summary>
/// Loop devices (linux/loop.h), for kernels that cannot mount EROFS from regular files (before 6.12): files are attached
/// read-only with LOOP_CONFIGURE and autoclear, so a device detaches itself when its mount goes away.
/// </summary>
internal static unsafe class LoopCalls
{
    private const int LOOP_CTL_GET_FREE = 0x4C82;
    private const int LOOP_CONFIGURE = 0x4C0A;
    private const uint LO_FLAGS_READ_ONLY = 1;
    private const uint LO_FLAGS_AUTOCLEAR = 4;

    /// <summary>Attaches <paramref name="file"/> to a free loop device; returns its path and an open handle on it.</summary>
    public static (string Device, SafeFileHandle Handle) Attach(string file)
    {
        using var control = File.OpenHandle("/dev/loop-control", FileMode.Open, FileAccess.ReadWrite);
        using var backing = File.OpenHandle(file, FileMode.Open, FileAccess.Read);
        for (var attempt = 0; ; attempt++)
        {
            var number = Ioctl(control, LOOP_CTL_GET_FREE, null, "/dev/loop-control");
            var device = $"/dev/loop{number}";
            var loop = File.OpenHandle(device, FileMode.Open, FileAccess.Read);
            var config = new LoopConfig { Fd = (uint)backing.DangerousGetHandle(), BlockSize = 0 };
            config.Info.Flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
            try
            {
                Ioctl(loop, LOOP_CONFIGURE, &config, device);
                return (device, loop);
            }
            catch (SyscallException e) when (e.ErrorNumber == LibC.EBUSY && attempt < 16)
            {
                // Another process took the free device between GET_FREE and CONFIGURE.
                loop.Dispose();
            }
            catch
            {
                loop.Dispose();
                throw;
            }
        }
    }

    private static int Ioctl(SafeFileHandle handle, int request, void* argument, string subject)
    {
        var result = FdCalls.Call(handle, &FdCalls.Ioctl, (nint)argument, request);
        return result >= 0 ? (int)result : throw new SyscallException("ioctl", (int)-result, subject);
    }

    /// <summary><c>struct loop_info64</c> (232 bytes).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 232)]
    private struct LoopInfo64
    {
        [FieldOffset(52)] public uint Flags;
    }

    /// <summary><c>struct loop_config</c> (304 bytes): fd, block_size, loop_info64, reserved.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 304)]
    private struct LoopConfig
    {
        [FieldOffset(0)] public uint Fd;
        [FieldOffset(4)] public uint BlockSize;
        [FieldOffset(8)] public LoopInfo64 Info;
    }
}
