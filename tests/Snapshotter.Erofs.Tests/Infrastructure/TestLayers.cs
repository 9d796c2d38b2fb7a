using System.Formats.Tar;
using System.Text;

namespace Snapshotter.Erofs.Tests.Infrastructure;

/// <summary>Writes OCI layer tars with System.Formats.Tar (PAX, xattrs as SCHILY.xattr.*).</summary>
internal sealed class TestLayers : IDisposable
{
    private static readonly DateTimeOffset BaseTime = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private readonly TarWriter _writer;
    private readonly Stream _output;

    public TestLayers(Stream output)
    {
        _output = output;
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

    /// <summary>
    /// A regular file whose PAX header carries a binary (non-UTF-8) xattr value, written by hand
    /// because TarWriter only writes string values (as real images do for security.capability).
    /// </summary>
    public void FileWithBinaryXattr(string path, byte[] content, string xattr, byte[] value)
    {
        byte[] key = Encoding.UTF8.GetBytes(" SCHILY.xattr." + xattr + "=");
        int length = key.Length + value.Length + 1;
        length += length.ToString().Length;
        length = key.Length + value.Length + 1 + length.ToString().Length;
        var pax = new MemoryStream();
        pax.Write(Encoding.ASCII.GetBytes(length.ToString()));
        pax.Write(key);
        pax.Write(value);
        pax.WriteByte((byte)'\n');
        WriteRaw("PaxHeaders/" + path, (byte)'x', pax.ToArray());
        WriteRaw(path, (byte)'0', content);
    }

    public void Dispose() => _writer.Dispose();

    private void WriteRaw(string name, byte type, byte[] data)
    {
        byte[] header = new byte[512];
        Encoding.ASCII.GetBytes(name, header.AsSpan(0, 100));
        Encoding.ASCII.GetBytes("0000644\0", header.AsSpan(100));
        Encoding.ASCII.GetBytes("0000000\0", header.AsSpan(108));
        Encoding.ASCII.GetBytes("0000000\0", header.AsSpan(116));
        Encoding.ASCII.GetBytes(Convert.ToString(data.Length, 8).PadLeft(11, '0') + "\0", header.AsSpan(124));
        Encoding.ASCII.GetBytes(Convert.ToString(BaseTime.ToUnixTimeSeconds(), 8).PadLeft(11, '0') + "\0", header.AsSpan(136));
        header[156] = type;
        Encoding.ASCII.GetBytes("ustar\0" + "00", header.AsSpan(257));
        header.AsSpan(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (byte b in header)
        {
            sum += b;
        }

        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ", header.AsSpan(148));
        _output.Write(header);
        _output.Write(data);
        _output.Write(new byte[(512 - (data.Length % 512)) % 512]);
    }

    private void Write(PaxTarEntry entry, int mode, int uid, int gid, int seconds = 0)
    {
        entry.Mode = (UnixFileMode)mode;
        entry.Uid = uid;
        entry.Gid = gid;
        entry.ModificationTime = BaseTime.AddSeconds(seconds).AddTicks(1234567);
        _writer.WriteEntry(entry);
    }
}
