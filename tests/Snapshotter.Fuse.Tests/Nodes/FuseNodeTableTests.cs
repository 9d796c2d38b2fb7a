using Microsoft.Win32.SafeHandles;
using Snapshotter.Fuse.Nodes;

namespace Snapshotter.Fuse.Tests.Nodes;

public sealed class FuseNodeTableTests
{
    [Fact]
    public void Add_SameNameTwice_Throws()
    {
        var table = new FuseNodeTable();
        table.Add(new NamedFile("a"), 0);

        Assert.Throws<InvalidOperationException>(() => table.Add(new NamedFile("a"), 0));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("nul\0")]
    public void Add_InvalidName_Throws(string name)
    {
        Assert.ThrowsAny<ArgumentException>(() => new FuseNodeTable().Add(new NamedFile(name), 0));
    }

    [Fact]
    public void Add_AfterRemove_GetsNewNodeId()
    {
        var table = new FuseNodeTable();
        var first = table.Add(new NamedFile("a"), 0);
        table.Remove("a", out _);

        var second = table.Add(new NamedFile("a"), 0);

        Assert.True(first.Id >= 2);
        Assert.NotEqual(first.Id, second.Id);
    }

    [Fact]
    public void Remove_LookedUpNode_StaysUntilForgotten()
    {
        var table = new FuseNodeTable();
        var node = table.Add(new NamedFile("a"), 0);
        Assert.Same(node, table.Lookup("a"));
        Assert.Same(node, table.Lookup("a"));

        Assert.NotNull(table.Remove("a", out _));

        Assert.Null(table.Lookup("a"));
        Assert.Same(node, table.Get(node.Id));
        table.Forget(node.Id, 1);
        Assert.Same(node, table.Get(node.Id));
        table.Forget(node.Id, 1);
        Assert.Null(table.Get(node.Id));
    }

    [Fact]
    public void Remove_OpenNode_StaysUntilReleased()
    {
        var table = new FuseNodeTable();
        var node = table.Add(new NamedFile("a"), 0);
        Assert.False(table.BeginOpen(node, wantPassthrough: false, _ => 0));

        table.Remove("a", out _);

        Assert.Same(node, table.Get(node.Id));
        table.EndOpen(node.Id, passthrough: false);
        Assert.Null(table.Get(node.Id));
    }

    [Fact]
    public void BeginOpen_CachedOpenExists_RefusesPassthrough()
    {
        var table = new FuseNodeTable();
        var node = table.Add(new NamedFile("a"), 0);
        table.BeginOpen(node, wantPassthrough: false, _ => 0);
        var registered = 0;

        var passthrough = table.BeginOpen(node, wantPassthrough: true, _ => ++registered);

        Assert.False(passthrough);
        Assert.Equal(0, registered);
    }

    [Fact]
    public void BeginOpen_PassthroughOpenExists_KeepsPassthroughAndRegistersOnce()
    {
        var table = new FuseNodeTable();
        var node = table.Add(new NamedFile("a"), 0);
        var registered = 0;

        Assert.True(table.BeginOpen(node, wantPassthrough: true, _ => ++registered + 10));
        Assert.True(table.BeginOpen(node, wantPassthrough: false, _ => ++registered + 10));

        Assert.Equal(1, registered);
        Assert.Equal(11, node.BackingId);
        Assert.Equal(2, node.PassthroughOpens);
    }

    [Fact]
    public void Forget_LastReferenceOfRemovedPassthroughNode_ReturnsBackingIdToClose()
    {
        var table = new FuseNodeTable();
        var node = table.Add(new NamedFile("a"), 0);
        table.Lookup("a");
        table.BeginOpen(node, wantPassthrough: true, _ => 5);
        table.Remove("a", out var atRemove);
        Assert.Equal(0, table.EndOpen(node.Id, passthrough: true));

        var backing = table.Forget(node.Id, 1);

        Assert.Equal(0, atRemove);
        Assert.Equal(5, backing);
    }

    [Fact]
    public void TryAddLookup_DeadNode_ReturnsFalse()
    {
        var table = new FuseNodeTable();
        var node = table.Add(new NamedFile("a"), 0);
        table.Remove("a", out _);

        Assert.False(table.TryAddLookup(node));
    }

    [Fact]
    public void List_Files_InNodeIdOrderWithTotals()
    {
        var table = new FuseNodeTable();
        table.Add(new NamedFile("z", 10), 0);
        table.Add(new NamedFile("a", 5), 0);

        Assert.Equal(["z", "a"], table.List().Select(n => n.File.Name));
        Assert.Equal(2, table.Count);
        Assert.Equal(15, table.TotalSize);
    }

    private sealed class NamedFile(string name, long size = 1) : IFuseFile
    {
        public string Name { get; } = name;

        public long Size { get; } = size;

        public ValueTask<FuseReadResult> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
            ValueTask.FromResult(FuseReadResult.Success(destination.Length));

        public SafeFileHandle? GetPassthroughHandle() => null;
    }
}
