namespace Snapshotter.Interop;

/// <summary>A failed system call: names the call, the errno and what it was applied to.</summary>
internal sealed class SyscallException(string syscall, int errno, string subject)
    : IOException($"{syscall} {subject}: {Errno.Describe(errno)}")
{
    public string Syscall { get; } = syscall;

    public int ErrorNumber { get; } = errno;
}
