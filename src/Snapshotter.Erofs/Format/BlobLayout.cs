using System.Buffers.Binary;
using System.Text;

namespace Snapshotter.Erofs.Format;

/// <summary>
/// The tail of a Nydus data blob: the blob-meta header (<c>BlobCompressionContextHeader</c>, 4 KiB)
/// and the ToC (128-byte <c>TocEntry</c> records followed by a 512-byte tar header <c>rafs.blob.toc</c>).
/// </summary>
internal static class BlobLayout
{
    public const uint MetaMagic = 0xB10BB10B;
    public const int MetaHeaderSize = 4096;
    public const int TocEntrySize = 128;

    // The ToC this writer emits: chunk info (blob meta), its header, the chunk digests.
    public const int TocEntryCount = 3;
    public const int TarHeaderSize = 512;
    public const string TocName = "rafs.blob.toc";
    public const string EntryBlobMeta = "blob.meta";
    public const string EntryBlobMetaHeader = "blob.meta.header";
    public const string EntryBlobDigest = "blob.digest";
    public const string EntryBootstrap = "image.boot";

    // BlobFeatures.
    public const uint FeatureAligned = 0x1;
    public const uint FeatureChunkInfoV2 = 0x4;
    public const uint FeatureHasToc = 0x2000_0000;

    // TocEntryFlags.
    public const uint TocCompressionNone = 0x1;
    public const uint TocCompressionZstd = 0x2;
    public const uint TocCompressionLz4 = 0x4;

    public static void WriteMetaHeader(Span<byte> header, uint features, ChunkCompressor ciCompressor, uint entries, ulong ciOffset, ulong ciCompressed, ulong ciUncompressed)
    {
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, MetaMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], features);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)ciCompressor);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], entries);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], ciOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], ciCompressed);
        BinaryPrimitives.WriteUInt64LittleEndian(header[32..], ciUncompressed);
        BinaryPrimitives.WriteUInt32LittleEndian(header[(MetaHeaderSize - 4)..], MetaMagic);
    }

    public static void WriteTocEntry(Span<byte> entry, uint flags, string name, ReadOnlySpan<byte> sha256, ulong offset, ulong compressedSize, ulong uncompressedSize)
    {
        entry.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(entry, flags);
        Encoding.ASCII.GetBytes(name, entry.Slice(8, 16));
        sha256.CopyTo(entry.Slice(24, 32));
        BinaryPrimitives.WriteUInt64LittleEndian(entry[56..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[64..], compressedSize);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[72..], uncompressedSize);
    }

    /// <summary>A minimal ustar header for a regular file (what Nydus appends after each section).</summary>
    public static void WriteTarHeader(Span<byte> header, string name, long size)
    {
        header.Clear();
        Encoding.ASCII.GetBytes(name, header[..100]);
        WriteOctal(header.Slice(100, 8), 0x1A4);
        WriteOctal(header.Slice(108, 8), 0);
        WriteOctal(header.Slice(116, 8), 0);
        WriteOctal(header.Slice(124, 12), size);
        WriteOctal(header.Slice(136, 12), 0);
        header[156] = (byte)'0';
        Encoding.ASCII.GetBytes("ustar\0", header.Slice(257, 6));
        Encoding.ASCII.GetBytes("00", header.Slice(263, 2));
        header.Slice(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (byte b in header)
        {
            sum += b;
        }

        WriteOctal(header.Slice(148, 7), sum);
        header[155] = (byte)' ';
    }

    /// <summary>Parses the size of a tar header (octal); -1 when malformed.</summary>
    public static long ParseTarSize(ReadOnlySpan<byte> header)
    {
        long value = 0;
        bool any = false;
        foreach (byte b in header.Slice(124, 12))
        {
            if (b is 0 or (byte)' ')
            {
                if (any)
                {
                    break;
                }

                continue;
            }

            if (b is < (byte)'0' or > (byte)'7' || value > (long.MaxValue >> 3))
            {
                return -1;
            }

            value = (value << 3) | (uint)(b - '0');
            any = true;
        }

        return any ? value : -1;
    }

    public static string ReadName(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return Encoding.ASCII.GetString(nul < 0 ? field : field[..nul]);
    }

    private static void WriteOctal(Span<byte> field, long value)
    {
        string text = Convert.ToString(value, 8).PadLeft(field.Length - 1, '0');
        Encoding.ASCII.GetBytes(text, field);
        field[^1] = 0;
    }
}
