namespace Snapshotter.Cachefiles.Protocol;

/// <summary>
/// One message read from <c>/dev/cachefiles</c>, parsed. A struct so that READ (the hot path) allocates
/// nothing; only OPEN carries keys, which are copied out because the read buffer is reused.
/// </summary>
/// <param name="MessageId">The kernel's <c>msg_id</c>, echoed by the reply.</param>
/// <param name="Opcode">OPEN, CLOSE or READ.</param>
/// <param name="ObjectId">The kernel's id of the cache object.</param>
/// <param name="Offset">READ: first byte wanted, in the object's (uncompressed) address space.</param>
/// <param name="Length">READ: number of bytes wanted.</param>
/// <param name="Fd">OPEN: the anonymous fd installed in our table for this object.</param>
/// <param name="Flags">OPEN: <c>flags</c> (unused by the kernel today).</param>
/// <param name="VolumeKey">OPEN: volume key without its NUL, e.g. <c>erofs,domain</c>.</param>
/// <param name="CookieKey">OPEN: cookie key (fsid for the bootstrap, the device tag for a data blob).</param>
internal readonly record struct CachefilesRequest(
    uint MessageId,
    CachefilesOpcode Opcode,
    uint ObjectId,
    ulong Offset,
    ulong Length,
    int Fd,
    uint Flags,
    string? VolumeKey,
    string? CookieKey);
