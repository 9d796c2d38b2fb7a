using Microsoft.Extensions.Logging;

namespace Snapshotter.Fuse.Session;

/// <summary>What a <see cref="FuseReadOperation"/> reports to when the file's read has ended.</summary>
internal interface IFuseReadCompletion
{
    ILogger Logger { get; }

    /// <summary>Replies (unless an INTERRUPT already did), forgets the request and returns the operation to its pool.</summary>
    void Complete(FuseReadOperation operation, int filled, int errno);
}
