using Snapshotter.Oci;
using System.IO.Pipes;
using System.Security.Cryptography;
using System.Text;
using System.Formats.Tar;
using Snapshotter.Erofs.Conversion;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// A converter source whose layers are tar streams written on the fly through a pipe: a 200 MiB layer is never stored
/// or hashed before the converter reads it (the guest's emulated CPU hashes ~8 MB/s). The layer digests are names, not
/// content hashes: the converter does not check them, and the converted image's digests are all computed from content.
/// </summary>
internal sealed class GeneratedImageSource(byte[] config, IReadOnlyList<Action<TarWriter>> layers) : IImageSource
{
    public const string LayerMediaType = "application/vnd.oci.image.layer.v1.tar";
    private readonly List<Task> _writers = [];

    public Task<SourceImage> ResolveAsync(string? platform, CancellationToken cancellationToken = default)
    {
        var configDescriptor = new Descriptor("application/vnd.oci.image.config.v1+json", Digest(config), config.Length);
        var layerDescriptors = layers.Select((_, i) => new Descriptor(LayerMediaType, Digest(Encoding.UTF8.GetBytes($"generated layer {i}")), 0)).ToList();
        return Task.FromResult(new SourceImage(configDescriptor, layerDescriptors));
    }

    public Task<Stream> OpenBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        if (descriptor.Digest == Digest(config))
        {
            return Task.FromResult<Stream>(new MemoryStream(config));
        }

        var index = Enumerable.Range(0, layers.Count).Single(i => Digest(Encoding.UTF8.GetBytes($"generated layer {i}")) == descriptor.Digest);
        var server = new AnonymousPipeServerStream(PipeDirection.Out);
        var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        _writers.Add(Task.Run(() =>
        {
            // Closing the write end is the reader's end of file, also when writing fails (the reader then sees a short tar).
            using (server)
            using (var tar = new TarWriter(server, TarEntryFormat.Pax, leaveOpen: true))
            {
                layers[index](tar);
            }
        }, cancellationToken));
        return Task.FromResult<Stream>(client);
    }

    /// <summary>Waits for every layer writer, surfacing what failed while writing.</summary>
    public Task CompleteAsync() => Task.WhenAll(_writers);

    private static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));
}
