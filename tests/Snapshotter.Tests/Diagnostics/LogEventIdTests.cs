using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Snapshotter.Tests.Diagnostics;

/// <summary>
/// Every log message of the product is a [LoggerMessage] with an event id that is unique across the whole service and
/// lies in its project's range, so that a log line's id alone says where it came from.
/// </summary>
public sealed class LogEventIdTests
{
    private static readonly (string Assembly, int First, int Last)[] Ranges =
    [
        ("snapshotter", 1000, 1099),
        ("Snapshotter.Core", 2000, 2099),
        ("Snapshotter.Registry", 3000, 3099),
        ("Snapshotter.Cache", 4000, 4099),
        ("Snapshotter.Cachefiles", 5000, 5099),
        ("Snapshotter.Lazy", 6000, 6099),
        ("Snapshotter.Fuse", 7000, 7099),
    ];

    private static IEnumerable<(string Assembly, string Method, int EventId)> Messages()
    {
        foreach (var (name, _, _) in Ranges)
        {
            var assembly = Assembly.Load(name);
            foreach (var type in assembly.GetTypes())
            {
                foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (method.GetCustomAttribute<LoggerMessageAttribute>() is { } attribute)
                    {
                        yield return (name, $"{type.FullName}.{method.Name}", attribute.EventId);
                    }
                }
            }
        }
    }

    [Fact]
    public void EventIds_AcrossTheService_AreUniqueAndInTheirProjectsRange()
    {
        var messages = Messages().ToList();

        Assert.True(messages.Count > 50, $"only {messages.Count} log messages found");
        foreach (var (assembly, method, id) in messages)
        {
            var (_, first, last) = Ranges.Single(r => r.Assembly == assembly);
            Assert.True(id >= first && id <= last, $"{method} in {assembly} has event id {id}, outside {first}-{last}");
        }

        var duplicates = messages.GroupBy(m => m.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}").ToList();
        Assert.True(duplicates.Count == 0, "event ids used twice: " + string.Join("; ", duplicates));
    }
}
