using System.Formats.Tar;
using System.Text;

namespace Snapshotter.Erofs.Tests.Infrastructure;

/// <summary>Writes OCI layer tars with System.Formats.Tar (PAX, xattrs as SCHILY.xattr.*).</summary>
internal sealed class TestLayers : IDisposable
{
    private static readonly DateTimeOffset BaseTime = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private readonly TarWriter _writer;

    public TestLayers(Stream output)
    {
        _writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
    }

    public static string LongName { get; } = new string('L', 250) + ".long";

    public static string UnicodeName { get; } = "日本語-ñ-файл.txt";

    public void Dir(string path, int mode = 0x1ED, int uid = 0, int gid = 0, IDictionary<string, string>? attrs = null) =>
        Write(new PaxTarEntry(TarEntryType.Directory, path, attrs ?? new Dictionary<string, string>()), mode, uid, gid);

    public void File(string path, byte[] content, int mode = 0x1A4, int uid = 0, int gid = 0, IDictionary<string, string>? attrs = null, int seconds = 0) =>
        Write(new PaxTarEntry(TarEntryType.RegularFile, path, attrs ?? new Dictionary<string, string>()) { DataStream = new MemoryStream(content) }, mode, uid, gid, seconds);

    public void File(string path, string content, int mode = 0x1A4) => File(path, Encoding.UTF8.GetBytes(content), mode);

    public void FileFromStream(string path, Stream content, int mode = 0x1A4) =>
        Write(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = content }, mode, 0, 0);

    public void Symlink(string path, string target) =>
        Write(new PaxTarEntry(TarEntryType.SymbolicLink, path) { LinkName = target }, 0x1FF, 0, 0);

    public void HardLink(string path, string target) =>
        Write(new PaxTarEntry(TarEntryType.HardLink, path) { LinkName = target }, 0x1A4, 0, 0);

    public void Device(string path, TarEntryType type, int major, int minor) =>
        Write(new PaxTarEntry(type, path) { DeviceMajor = major, DeviceMinor = minor }, 0x1B6, 0, 0);

    public void Fifo(string path) => Write(new PaxTarEntry(TarEntryType.Fifo, path), 0x1A4, 0, 0);

    public void Whiteout(string path) => File(path, []);

    public void Dispose() => _writer.Dispose();

    private void Write(PaxTarEntry entry, int mode, int uid, int gid, int seconds = 0)
    {
        entry.Mode = (UnixFileMode)mode;
        entry.Uid = uid;
        entry.Gid = gid;
        entry.ModificationTime = BaseTime.AddSeconds(seconds).AddTicks(1234567);
        _writer.WriteEntry(entry);
    }
}
