using Snapshotter.Registry.Hosts;

namespace Snapshotter.Registry.Http;

/// <summary>Everything needed to (re)build one registry request; requests are rebuilt per attempt.</summary>
internal sealed class RequestSpec
{
    public required HttpMethod Method { get; init; }

    /// <summary>Path relative to the host's <c>/v2/</c> base, e.g. <c>library/ubuntu/manifests/latest</c>.</summary>
    public string? Path { get; init; }

    /// <summary>An absolute URL (upload locations) instead of <see cref="Path"/>.</summary>
    public Uri? AbsoluteUri { get; init; }

    /// <summary>Token scope(s), space separated.</summary>
    public required string Scope { get; init; }

    /// <summary>The capability a host needs to serve this request.</summary>
    public required HostCapabilities Capability { get; init; }

    /// <summary>For messages: "GET manifest docker.io/library/ubuntu:latest".</summary>
    public required string Operation { get; init; }

    public string? Accept { get; init; }

    public long RangeFrom { get; init; } = -1;

    /// <summary>Last byte of the range, or -1 for "to the end" (<c>bytes=from-</c>).</summary>
    public long RangeTo { get; init; } = -1;

    public string? ContentType { get; init; }

    /// <summary>A raw <c>Content-Range</c> for upload chunks (distribution's <c>start-end</c> form, no unit).</summary>
    public string? UploadContentRange { get; init; }

    /// <summary>The request body; memory, so it can be replayed after a 401.</summary>
    public ReadOnlyMemory<byte>? Content { get; init; }

    /// <summary>Whether 5xx/429/connection errors may be retried (false for upload PATCH/PUT).</summary>
    public bool Idempotent { get; init; } = true;

    /// <summary>When set, a redirect target is cached under this key and reused until it fails.</summary>
    public string? RedirectCacheKey { get; init; }

    /// <summary>Status codes accepted as success besides 2xx (e.g. 404 for an existence check).</summary>
    public int AlsoAccept { get; init; }

    /// <summary>Hosts to use instead of the registry's configured hosts (uploads stay on the host that started them).</summary>
    public RegistryHost? FixedHost { get; init; }
}
