using Snapshotter.Erofs.Reading;
using Snapshotter.Erofs.Tests.Infrastructure;

namespace Snapshotter.Erofs.Tests.Reading;

/// <summary>Independent oracles: the host kernel's EROFS and umoci's unpack of the same layers.</summary>
public sealed class KernelOracleTests(OracleImageFixture fixture) : IClassFixture<OracleImageFixture>
{
    [Fact]
    public void KernelMount_ConvertedImage_MatchesUmociUnpack()
    {
        // The layers carry no entry for the root itself; umoci stamps it with the unpack time.
        string expected = WithoutRootLine(Shell.Describe(fixture.ReferenceRoot));
        string actual = WithoutRootLine(Shell.Describe(fixture.MountPoint));
        Assert.Contains("./data/big.sparse", expected);
        Assert.Contains("./many/f09999", expected);
        Assert.DoesNotContain("./del/gone|", expected);
        Assert.Equal(expected, actual);
    }

    private static string WithoutRootLine(string description) =>
        string.Join('\n', description.Split('\n').Where(line => !line.StartsWith(".|", StringComparison.Ordinal)));

    [Fact]
    public void DeviceTable_ConvertedImage_TagsAreBlobDigestsInManifestOrder()
    {
        using ErofsImage image = ErofsImage.Open(fixture.BootstrapPath);
        Assert.Equal(fixture.Result.DataBlobs.Select(b => b.Digest[7..]), image.Devices.Select(d => d.Tag));
        Assert.Equal(image.Devices.Select(d => d.Tag), image.Blobs.Select(b => b.BlobId));
        Assert.Equal(3, image.Devices.Count);
    }

    [Fact]
    public void FsckErofs_ConvertedBootstrap_Accepts()
    {
        var args = new List<string>();
        args.AddRange(fixture.RawBlobPaths.Select(p => "--device=" + p));
        args.Add("--extract");
        args.Add(fixture.BootstrapPath);
        (int code, string stdout, string stderr) = Shell.TryRunIn(null, "fsck.erofs", [.. args]);
        Assert.True(code == 0, $"fsck.erofs failed ({code}): {stderr}{stdout}");
    }

    [Fact]
    public void ReaderWalk_ConvertedImageWithCompressedBlobs_MatchesKernelView()
    {
        List<string> kernel = TreeView.FromKernel(fixture.MountPoint);
        using ErofsImage image = ErofsImage.Open(fixture.BootstrapPath);
        var blobs = fixture.BlobPaths.Select(p => DataBlob.Open(p, fixture.Options.Compressor, fixture.Options.Digester)).ToList();
        try
        {
            List<string> ours = TreeView.FromReader(image, blobs);
            Assert.True(kernel.Count > 10_000);
            Assert.Contains(kernel, l => l.StartsWith("/dev/bigminor mode=20666 0:0 size=0 ", StringComparison.Ordinal) && l.Contains("rdev=300:70000", StringComparison.Ordinal));
            Assert.Contains(kernel, l => l.StartsWith("/layer2/binary-xattr ", StringComparison.Ordinal) && l.Contains("user.binary=fffe800102c3", StringComparison.Ordinal));
            Assert.Contains(kernel, l => l.StartsWith("/data/suid mode=104755 1000:1000 size=3 ", StringComparison.Ordinal) && l.Contains("user.comment=", StringComparison.Ordinal));
            Assert.Equal(kernel, ours);
        }
        finally
        {
            blobs.ForEach(b => b.Dispose());
        }
    }
}
