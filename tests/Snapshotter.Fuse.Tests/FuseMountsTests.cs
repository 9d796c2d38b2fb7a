using Snapshotter.Fuse.Tests.Infrastructure;

namespace Snapshotter.Fuse.Tests;

public sealed class FuseMountsTests
{
    [Fact]
    public void Unescape_OctalEscapes_Decoded()
    {
        Assert.Equal("/mnt/with space\tand\\slash", FuseMounts.Unescape(@"/mnt/with\040space\011and\134slash"));
        Assert.Equal("/plain", FuseMounts.Unescape("/plain"));
    }

    [Fact]
    public void FuseMountsUnder_MountInfo_OnlyFuseTypesUnderDirectoryDeepestFirst()
    {
        using var dir = new TempDirectory();
        var info = dir.Combine("mountinfo");
        File.WriteAllLines(info, [
            "22 1 0:21 / /proc rw,nosuid shared:5 - proc proc rw",
            "90 22 0:50 / /var/lib/x/fuse rw,nosuid,nodev,relatime shared:40 - fuse.lazysnap lazysnap ro,user_id=0",
            "91 90 0:51 / /var/lib/x/fuse/deeper\\040dir rw - fuse lazysnap ro",
            "92 22 0:52 / /var/lib/x/erofs ro - erofs none ro",
            "93 22 0:53 / /var/lib/xy/fuse rw - fuse.squashfuse squashfuse ro",
            "94 22 0:54 / /var/lib/x rw master:1 - fuse.other other rw",
        ]);

        var found = FuseMounts.FuseMountsUnder("/var/lib/x", info);

        Assert.Equal(
            [("/var/lib/x/fuse/deeper dir", "fuse"), ("/var/lib/x/fuse", "fuse.lazysnap"), ("/var/lib/x", "fuse.other")],
            found);
    }
}
