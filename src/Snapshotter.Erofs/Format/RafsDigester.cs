namespace Snapshotter.Erofs.Format;

/// <summary>The RAFS v6 blob record's <c>digest_algo</c> values (nydus <c>digest::Algorithm</c>) as <see cref="ChunkDigester"/>.</summary>
internal static class RafsDigester
{
    /// <summary>The digester of a RAFS v6 blob record's <c>digest_algo</c>; throws <see cref="InvalidImageException"/> naming an unknown one.</summary>
    public static ChunkDigester FromRafs(uint value, string what) => value switch
    {
        0 => ChunkDigester.Blake3,
        1 => ChunkDigester.Sha256,
        _ => throw new InvalidImageException($"{what}: unknown chunk digest algorithm {value} (known: 0 = blake3, 1 = sha256)"),
    };
}
