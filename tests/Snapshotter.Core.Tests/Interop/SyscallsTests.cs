using Snapshotter.Core.Interop;
using Tmds.Linux;

namespace Snapshotter.Core.Tests.Interop;

/// <summary>The overlay backend's wrappers against the real kernel: results and the errors they throw.</summary>
public sealed class SyscallsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "core-syscalls-" + Guid.NewGuid().ToString("N"));

    public SyscallsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Mkdir_NewPath_CreatesDirectoryWithMode()
    {
        var path = Path.Combine(_dir, "new");

        Syscalls.Mkdir(path, 0x1C0); // 0700

        var st = Syscalls.LStatx(path);
        Assert.True(LibC.S_ISDIR(st.stx_mode));
        Assert.Equal(0x1C0, st.stx_mode & 0xFFF);
    }

    [Fact]
    public void Mkdir_ExistingDirectoryExistOk_Returns()
    {
        Syscalls.Mkdir(_dir, 0x1C0, existOk: true);

        Assert.True(Directory.Exists(_dir));
    }

    [Fact]
    public void Mkdir_ExistingDirectory_ThrowsNamingMkdirAndEexist()
    {
        var e = Assert.Throws<SnapshotterException>(() => Syscalls.Mkdir(_dir, 0x1C0));

        Assert.Equal($"mkdir {_dir}: File exists (errno 17)", e.Message);
    }

    [Fact]
    public void Mkdir_ExistingFileExistOk_ThrowsEexist()
    {
        var path = Path.Combine(_dir, "file");
        File.WriteAllText(path, "x");

        var e = Assert.Throws<SnapshotterException>(() => Syscalls.Mkdir(path, 0x1C0, existOk: true));

        Assert.Contains("(errno 17)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLStatx_MissingPath_ReturnsFalse()
    {
        Assert.False(Syscalls.TryLStatx(Path.Combine(_dir, "missing"), out _));
    }

    [Fact]
    public void LStatx_MissingPath_ThrowsNamingStatx()
    {
        var path = Path.Combine(_dir, "missing");

        var e = Assert.Throws<SnapshotterException>(() => Syscalls.LStatx(path));

        Assert.Equal($"statx {path}: No such file or directory (errno 2)", e.Message);
    }

    [Fact]
    public void LStatx_Symlink_DescribesTheLinkNotItsTarget()
    {
        var link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, _dir);

        var st = Syscalls.LStatx(link);

        Assert.True(LibC.S_ISLNK(st.stx_mode));
        Assert.Equal((ulong)_dir.Length, st.stx_size);
    }

    [Fact]
    public void Chmod_Directory_SetsMode()
    {
        var path = Path.Combine(_dir, "ro");
        Directory.CreateDirectory(path);

        Syscalls.Chmod(path, 0x16D); // 0555

        Assert.Equal(0x16D, Syscalls.LStatx(path).stx_mode & 0xFFF);
    }

    [Fact]
    public void Chmod_MissingPath_ThrowsNamingChmod()
    {
        var path = Path.Combine(_dir, "missing");

        var e = Assert.Throws<SnapshotterException>(() => Syscalls.Chmod(path, 0x1C0));

        Assert.StartsWith($"chmod {path}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LChown_Directory_SetsOwnerAndGroup()
    {
        var path = Path.Combine(_dir, "owned");
        Directory.CreateDirectory(path);

        Syscalls.LChown(path, 1234, 5678);

        var st = Syscalls.LStatx(path);
        Assert.Equal((1234u, 5678u), (st.stx_uid, st.stx_gid));
    }
}
