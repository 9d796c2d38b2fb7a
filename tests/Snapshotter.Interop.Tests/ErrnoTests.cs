using Tmds.Linux;

namespace Snapshotter.Interop.Tests;

public sealed class ErrnoTests
{
    [Fact]
    public void Describe_NegativeResult_NamesTheErrorAsLibcDoes() =>
        Assert.Equal("Device or resource busy (errno 16)", Errno.Describe(-LibC.EBUSY));

    [Fact]
    public void Describe_PositiveErrno_SameText() =>
        Assert.Equal("No such file or directory (errno 2)", Errno.Describe(LibC.ENOENT));
}
