// The namespaces the whole daemon is built on: the fd and syscall layer (Snapshotter.Interop) and the chunk fetcher
// it serves cache objects from.
global using Snapshotter.Cache.Fetching;
global using Snapshotter.Interop;
