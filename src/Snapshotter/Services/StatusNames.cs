using Grpc.Core;

namespace Snapshotter.Services;

/// <summary>gRPC status codes as metric label values (<c>not_found</c>, ...): a fixed, bounded set.</summary>
internal static class StatusNames
{
    private static readonly string[] Names =
    [
        "ok", "cancelled", "unknown", "invalid_argument", "deadline_exceeded", "not_found", "already_exists", "permission_denied",
        "resource_exhausted", "failed_precondition", "aborted", "out_of_range", "unimplemented", "internal", "unavailable", "data_loss",
        "unauthenticated",
    ];

    public static string Of(StatusCode code) => (int)code is >= 0 and < 17 ? Names[(int)code] : "unknown";
}
