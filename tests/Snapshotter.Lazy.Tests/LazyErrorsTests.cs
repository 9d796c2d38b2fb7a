using Snapshotter.Registry;

namespace Snapshotter.Lazy.Tests;

public sealed class LazyErrorsTests
{
    [Theory]
    [InlineData(RegistryErrorKind.InvalidReference, ErrorKind.InvalidArgument)]
    [InlineData(RegistryErrorKind.NotFound, ErrorKind.NotFound)]
    [InlineData(RegistryErrorKind.Unauthorized, ErrorKind.FailedPrecondition)]
    [InlineData(RegistryErrorKind.Denied, ErrorKind.FailedPrecondition)]
    [InlineData(RegistryErrorKind.Timeout, ErrorKind.DeadlineExceeded)]
    [InlineData(RegistryErrorKind.TooManyRequests, ErrorKind.Unavailable)]
    [InlineData(RegistryErrorKind.Unavailable, ErrorKind.Unavailable)]
    [InlineData(RegistryErrorKind.InvalidResponse, ErrorKind.Unavailable)]
    [InlineData(RegistryErrorKind.DigestMismatch, ErrorKind.Unavailable)]
    [InlineData(RegistryErrorKind.RangeNotSatisfiable, ErrorKind.Unavailable)]
    [InlineData(RegistryErrorKind.Rejected, ErrorKind.Unavailable)]
    public void FromRegistry_EveryRegistryKind_MappedKindContextAndCause(RegistryErrorKind registryKind, ErrorKind expected)
    {
        var cause = new RegistryException(registryKind, "the registry said no");

        var e = LazyErrors.FromRegistry(cause, "image r.example/app:v1");

        Assert.Equal(expected, e.Kind);
        Assert.StartsWith("image r.example/app:v1: the registry said no", e.Message);
        Assert.Same(cause, e.InnerException);
        Assert.Equal(registryKind is RegistryErrorKind.Unauthorized or RegistryErrorKind.Denied, e.Message.Contains("own credentials", StringComparison.Ordinal));
    }

    [Fact]
    public void KindOf_NoRegistryKindIsUnknown()
    {
        Assert.All(Enum.GetValues<RegistryErrorKind>(), k => Assert.NotEqual(ErrorKind.Unknown, LazyErrors.KindOf(k)));
    }
}
