namespace Snapshotter.Lazy.Blobs;

/// <summary>
/// Creates one value on first demand, shared by every caller that asks while it is being created (one chunk-table read
/// per blob, however many READs arrive at once). A creation that failed or was cancelled is not kept: the next caller
/// starts a new one. A caller's cancellation stops its wait, not the creation others may be waiting for.
/// </summary>
internal sealed class SingleFlight<T>
    where T : class
{
    private readonly Lock _lock = new();
    private Task<T>? _creating;
    private T? _value;

    /// <summary>The value once a creation succeeded; null before.</summary>
    public T? Value => Volatile.Read(ref _value);

    /// <summary>
    /// The value, creating it with <paramref name="create"/> (or joining the creation in progress) when there is none
    /// yet. With <paramref name="retryFailed"/> false a failed or cancelled creation is answered again as it failed
    /// instead of starting a new one (a caller holding off retries for a while). Defaults to true.
    /// </summary>
    public Task<T> GetAsync(Func<Task<T>> create, bool retryFailed = true, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_creating is null || (retryFailed && (_creating.IsFaulted || _creating.IsCanceled)))
            {
                _creating = CreateAsync(create);
            }

            return _creating.IsCompleted ? _creating : _creating.WaitAsync(cancellationToken);
        }
    }

    private async Task<T> CreateAsync(Func<Task<T>> create)
    {
        var value = await create().ConfigureAwait(false);
        Volatile.Write(ref _value, value);
        return value;
    }
}
