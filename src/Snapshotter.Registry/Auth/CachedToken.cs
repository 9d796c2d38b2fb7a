namespace Snapshotter.Registry.Auth;

/// <summary>A bearer token and when to stop using it.</summary>
internal sealed record CachedToken(string Value, DateTimeOffset RefreshAt)
{
    public override string ToString() => $"CachedToken {{ redacted, refresh at {RefreshAt:O} }}";
}
