using Snapshotter.Erofs.Format;

namespace Snapshotter.Erofs.Tests.Format;

/// <summary>The one xattr name-index table: the writer's split and the reader's prefix agree, per erofs_fs.h.</summary>
public sealed class XattrNameIndexTests
{
    [Theory]
    [InlineData("user.mime", 1, "mime")]
    [InlineData("system.posix_acl_access", 2, "")]
    [InlineData("system.posix_acl_default", 3, "")]
    [InlineData("trusted.overlay.opaque", 4, "overlay.opaque")]
    [InlineData("security.capability", 6, "capability")]
    public void TrySplit_StorableName_GivesIndexAndSuffixThatReadBack(string name, byte index, string suffix)
    {
        Assert.True(XattrNameIndex.TrySplit(name, out byte gotIndex, out string gotSuffix));
        Assert.Equal((index, suffix), (gotIndex, gotSuffix));
        Assert.True(XattrNameIndex.TryGetPrefix(gotIndex, out string prefix));
        Assert.Equal(name, prefix + gotSuffix);
    }

    [Theory]
    [InlineData("user.")]
    [InlineData("security.")]
    [InlineData("system.posix_acl_accessx")]
    [InlineData("system.other")]
    [InlineData("lustre.lov")]
    [InlineData("nonamespace")]
    public void TrySplit_NameEroFsCannotStore_IsRefused(string name)
    {
        Assert.False(XattrNameIndex.TrySplit(name, out _, out _));
    }

    [Theory]
    [InlineData(0, "")]
    [InlineData(5, "lustre.")]
    [InlineData(6, "security.")]
    public void TryGetPrefix_DefinedIndex_GivesItsPrefix(int index, string prefix)
    {
        Assert.True(XattrNameIndex.TryGetPrefix(index, out string got));
        Assert.Equal(prefix, got);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(-1)]
    [InlineData(127)]
    public void TryGetPrefix_UndefinedIndex_IsFalse(int index)
    {
        Assert.False(XattrNameIndex.TryGetPrefix(index, out _));
    }
}
