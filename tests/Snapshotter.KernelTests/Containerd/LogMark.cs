namespace Snapshotter.KernelTests.Containerd;

/// <summary>Line counts of the registry's, the service's and containerd's output at one moment.</summary>
internal readonly record struct LogMark(int Registry, int Serve, int Containerd);
