namespace Snapshotter;

internal static class Program
{
    public static int Main(string[] args) => args.Length == 0 ? 1 : 0;
}
