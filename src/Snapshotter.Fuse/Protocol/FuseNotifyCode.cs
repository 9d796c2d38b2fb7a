namespace Snapshotter.Fuse.Protocol;

/// <summary>Unsolicited notifications a server writes with unique 0 and the code as the error field (fuse.h).</summary>
internal enum FuseNotifyCode
{
    InvalInode = 2,
    InvalEntry = 3,
    Delete = 6,
}
