namespace Snapshotter.Cachefiles.Protocol;

/// <summary><c>enum cachefiles_opcode</c> (include/uapi/linux/cachefiles.h).</summary>
internal enum CachefilesOpcode : uint
{
    Open = 0,
    Close = 1,
    Read = 2,
}
