namespace Snapshotter.Cache.Tests.Fetching;

/// <summary>Polls for what the fetcher does in the background (readahead, amplification), with a deadline.</summary>
internal static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}
