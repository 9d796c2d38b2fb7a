namespace Snapshotter.Cachefiles.Interop;

/// <summary>
/// A reference held on a <see cref="SafeFdHandle"/> for the length of one system call, so the descriptor cannot be
/// closed (and its number reused by another open) while the kernel works on it. Disposing releases the reference.
/// </summary>
internal readonly ref struct FdReference
{
    private readonly SafeFdHandle _handle;

    public FdReference(SafeFdHandle handle)
    {
        // DangerousAddRef either takes the reference or throws ObjectDisposedException, so there is nothing to undo.
        var added = false;
        handle.DangerousAddRef(ref added);
        _handle = handle;
        Fd = (int)handle.DangerousGetHandle();
    }

    /// <summary>The raw descriptor, valid until <see cref="Dispose"/>.</summary>
    public int Fd { get; }

    public void Dispose() => _handle.DangerousRelease();
}
