namespace Snapshotter.Registry.Auth;

/// <summary>
/// Credentials for one registry host: a user name and password, or an identity (refresh) token.
/// <see cref="ToString"/> is redacted so the values cannot leak into logs or messages.
/// </summary>
internal sealed record RegistryCredential(string? Username, string? Password, string? IdentityToken)
{
    public bool HasPassword => !string.IsNullOrEmpty(Username) && Password is not null;

    public string BasicHeaderValue() =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Username}:{Password}"));

    public override string ToString() => "RegistryCredential { redacted }";
}
