namespace Snapshotter.Erofs.Reading;

/// <summary>One extended attribute with its full name (prefix included, e.g. <c>user.foo</c>).</summary>
internal sealed record ErofsXattr(string Name, byte[] Value);
