namespace Snapshotter.Rpc.Protocol;

/// <summary>Header names and values of gRPC over HTTP/2 (grpc/grpc doc/PROTOCOL-HTTP2.md).</summary>
internal static class GrpcProtocol
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";

    /// <summary>True for <c>application/grpc</c> and <c>application/grpc+proto</c> (parameters after ';' ignored).</summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null)
        {
            return false;
        }

        ReadOnlySpan<char> value = contentType.AsSpan();
        int semicolon = value.IndexOf(';');
        if (semicolon >= 0)
        {
            value = value[..semicolon];
        }

        value = value.Trim();
        return value.Equals(ContentType, StringComparison.OrdinalIgnoreCase)
            || value.Equals(ContentType + "+proto", StringComparison.OrdinalIgnoreCase);
    }
}
