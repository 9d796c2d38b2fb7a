using Snapshotter.Rpc.Protocol;

namespace Snapshotter.Rpc.Tests.Protocol;

public sealed class GrpcProtocolTests
{
    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("Application/GRPC; charset=utf-8", true)]
    [InlineData("application/grpc+json", false)]
    [InlineData("application/json", false)]
    [InlineData("application/grpc-web", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsGrpcContentType_Value_AcceptsOnlyGrpcProto(string? contentType, bool expected)
    {
        Assert.Equal(expected, GrpcProtocol.IsGrpcContentType(contentType));
    }
}
