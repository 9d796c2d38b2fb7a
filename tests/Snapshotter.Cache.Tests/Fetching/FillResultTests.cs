using Snapshotter.Cache.Fetching;

namespace Snapshotter.Cache.Tests.Fetching;

public sealed class FillResultTests
{
    [Fact]
    public void Success_IsTheDefault_WithNoErrno()
    {
        Assert.True(FillResult.Success.IsSuccess);
        Assert.Equal(default, FillResult.Success);
        Assert.Equal((FillError.None, 0), (FillResult.Success.Error, FillResult.Success.Errno));
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(-28, 28)]
    [InlineData(28, 28)]
    public void Failed_AnyErrnoSign_CarriesThePositiveErrnoDefaultingToEio(int errno, int expected)
    {
        var result = FillResult.Failed(FillError.WriteFailed, errno);

        Assert.False(result.IsSuccess);
        Assert.Equal((FillError.WriteFailed, expected), (result.Error, result.Errno));
        Assert.Equal($"WriteFailed (errno {expected})", result.ToString());
    }

    [Fact]
    public void Failed_KindNone_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FillResult.Failed(FillError.None));
    }

    [Fact]
    public void FromErrno_SyscallResult_ZeroIsSuccessNegativeIsTheKind()
    {
        Assert.Equal(FillResult.Success, FillResult.FromErrno(0, FillError.WriteFailed));
        Assert.Equal(FillResult.Failed(FillError.WriteFailed, 5), FillResult.FromErrno(-5, FillError.WriteFailed));
        Assert.NotEqual(FillResult.Failed(FillError.WriteFailed), FillResult.Failed(FillError.ChunkUnavailable));
    }
}
