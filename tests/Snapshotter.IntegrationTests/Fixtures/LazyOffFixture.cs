namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>The lazy-pull setup with <c>--lazy-mode off</c>: our service takes no remote-snapshot path: every layer is unpacked the ordinary way.</summary>
public sealed class LazyOffFixture(LazyImages images) : LazyContainerdFixture(images, "off");
