using Tmds.Linux;

namespace Snapshotter.Lazy.Interop;

/// <summary>A failed system call: names the call, the errno and what it was applied to.</summary>
internal sealed class NativeCallException(string call, int errno, string subject)
    : IOException($"{call} {subject}: {Describe(errno)}")
{
    public string Call { get; } = call;

    public int ErrorNumber { get; } = errno;

    public static unsafe string Describe(int errno)
    {
        var buffer = stackalloc byte[256];
        var text = LibC.strerror_r(errno, buffer, 256) == 0
            ? System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)buffer) ?? "unknown error"
            : "unknown error";
        return $"{text} (errno {errno})";
    }
}
