namespace Snapshotter.Erofs.Format;

/// <summary>
/// CRC32C (Castagnoli) the way the kernel's <c>crc32c(~0, buf, len)</c> computes the EROFS superblock
/// checksum: seed ~0, reflected polynomial 0x82F63B78, no final inversion.
/// </summary>
internal static class Crc32C
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data, uint seed = uint.MaxValue)
    {
        uint crc = seed;
        foreach (byte b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78 ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
