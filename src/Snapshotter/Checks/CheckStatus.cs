namespace Snapshotter.Checks;

/// <summary>The verdict of one check, as <c>snapshotter check</c> prints it (OK / WARN / FAIL; JSON: ok / warn / fail).</summary>
internal enum CheckStatus
{
    /// <summary>The host has what this check looks for.</summary>
    Ok,

    /// <summary>Something is missing that <c>serve</c> works around (a lazy mode it falls back from, a containerd setting).</summary>
    Warn,

    /// <summary>Something is missing without which <c>serve</c> cannot run.</summary>
    Fail,
}
