namespace Snapshotter.Registry.Tests.Infrastructure;

/// <summary>One anonymous docker-registry shared by a test class.</summary>
public sealed class AnonymousRegistryFixture : IAsyncLifetime
{
    internal RegistryProcess Registry { get; private set; } = null!;

    public async Task InitializeAsync() => Registry = await RegistryProcess.StartAsync();

    public async Task DisposeAsync() => await Registry.DisposeAsync();
}
