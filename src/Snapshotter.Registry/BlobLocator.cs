namespace Snapshotter.Registry;

/// <summary>A blob of one repository: where to read it and the digest that identifies (and verifies) it.</summary>
public sealed record BlobLocator
{
    /// <summary>Locates <paramref name="digest"/> in the repository of <paramref name="repository"/> (its tag/digest is ignored).</summary>
    public BlobLocator(ImageReference repository, string digest)
    {
        ArgumentNullException.ThrowIfNull(repository);
        RegistryException.ThrowIfInvalidDigest(digest);
        Repository = repository;
        Digest = digest;
        CacheKey = repository.Registry + "/" + repository.Repository + "@" + digest;
        Path = repository.Repository + "/blobs/" + digest;
    }

    /// <summary>The repository that holds the blob.</summary>
    public ImageReference Repository { get; }

    /// <summary>The blob's digest.</summary>
    public string Digest { get; }

    /// <summary>A key unique per registry, repository and digest (used to cache redirect targets).</summary>
    internal string CacheKey { get; }

    /// <summary>The API path below <c>/v2/</c>, built once (range reads are the hot path).</summary>
    internal string Path { get; }

    /// <summary>Parses <c>REF@DIGEST</c> (the form the CLI takes).</summary>
    public static BlobLocator Parse(string referenceWithDigest)
    {
        ImageReference reference = ImageReference.Parse(referenceWithDigest);
        if (reference.Digest is null)
        {
            throw new RegistryException(RegistryErrorKind.InvalidReference, $"invalid blob reference \"{referenceWithDigest}\": expected REPOSITORY@DIGEST");
        }

        return new BlobLocator(reference, reference.Digest);
    }

    public override string ToString() => $"{Repository.Registry}/{Repository.Repository}@{Digest}";
}
