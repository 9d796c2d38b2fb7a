namespace Snapshotter.Cli;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs its handler on the reporting thread, in order (<see cref="Progress{T}"/> posts
/// to the thread pool, where reports could overtake each other).
/// </summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
