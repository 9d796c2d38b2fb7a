namespace Snapshotter.Fuse.Protocol;

/// <summary><c>FOPEN_*</c> flags of an OPEN reply (fuse.h).</summary>
[Flags]
internal enum FuseOpenFlags : uint
{
    None = 0,
    DirectIo = 1 << 0,
    KeepCache = 1 << 1,
    NonSeekable = 1 << 2,
    CacheDir = 1 << 3,
    Stream = 1 << 4,
    NoFlush = 1 << 5,
    Passthrough = 1 << 7,
}
