using Snapshotter.Core;
using Grpc.Core;
using Snapshotter.Services;

namespace Snapshotter.Tests.Services;

public sealed class GrpcErrorMapperTests
{
    [Theory]
    [InlineData(ErrorKind.InvalidArgument, StatusCode.InvalidArgument)]
    [InlineData(ErrorKind.NotFound, StatusCode.NotFound)]
    [InlineData(ErrorKind.AlreadyExists, StatusCode.AlreadyExists)]
    [InlineData(ErrorKind.FailedPrecondition, StatusCode.FailedPrecondition)]
    [InlineData(ErrorKind.Unavailable, StatusCode.Unavailable)]
    [InlineData(ErrorKind.NotImplemented, StatusCode.Unimplemented)]
    [InlineData(ErrorKind.Canceled, StatusCode.Cancelled)]
    [InlineData(ErrorKind.DeadlineExceeded, StatusCode.DeadlineExceeded)]
    [InlineData(ErrorKind.Unknown, StatusCode.Unknown)]
    public void Map_SnapshotterException_UsesKindAndKeepsMessage(ErrorKind kind, StatusCode expected)
    {
        var (code, message) = GrpcErrorMapper.Map(new SnapshotterException(kind, "snapshot k: boom"));

        Assert.Equal(expected, code);
        Assert.Equal("snapshot k: boom", message);
    }

    [Fact]
    public void Map_EveryErrorKind_HasAStatusCode()
    {
        foreach (var kind in Enum.GetValues<ErrorKind>())
        {
            var code = GrpcErrorMapper.ToStatusCode(kind);
            Assert.True(kind == ErrorKind.Unknown || code != StatusCode.Unknown, $"{kind} maps to Unknown");
        }
    }

    [Fact]
    public void Map_IOException_IsUnavailableWithMessage()
    {
        var (code, message) = GrpcErrorMapper.Map(new IOException("No space left on device"));

        Assert.Equal(StatusCode.Unavailable, code);
        Assert.Equal("No space left on device", message);
    }

    [Fact]
    public void Map_Cancellation_IsCancelled() =>
        Assert.Equal(StatusCode.Cancelled, GrpcErrorMapper.Map(new OperationCanceledException()).Code);

    [Fact]
    public void Map_UnexpectedException_IsUnknown() =>
        Assert.Equal(StatusCode.Unknown, GrpcErrorMapper.Map(new InvalidOperationException("bug")).Code);
}
