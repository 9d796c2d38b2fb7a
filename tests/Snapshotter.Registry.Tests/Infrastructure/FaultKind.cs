namespace Snapshotter.Registry.Tests.Infrastructure;

public enum FaultKind
{
    /// <summary>Answer with <see cref="Fault.Status"/> (and Retry-After when set) without asking upstream.</summary>
    Status,

    /// <summary>Abort the connection before answering.</summary>
    Reset,

    /// <summary>Forward, but send only half of the body, then abort.</summary>
    TruncateBody,

    /// <summary>Forward the headers and a few bytes, then send nothing until the client gives up.</summary>
    StallBody,

    /// <summary>Answer 307 to <see cref="Fault.Location"/>.</summary>
    Redirect,

    /// <summary>Forward without Range, so upstream answers 200 with the whole blob.</summary>
    IgnoreRange,

    /// <summary>Forward, and wrap a 206 answer in multipart/byteranges.</summary>
    Multipart,

    /// <summary>Forward, and claim a Content-Range shifted by one byte.</summary>
    WrongContentRange,

    /// <summary>Forward without the Authorization header (upstream answers 401 as for an expired token).</summary>
    DropAuthorization,

    /// <summary>Forward, and flip one byte of the body.</summary>
    CorruptBody,
}
