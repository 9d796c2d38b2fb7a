// The namespaces the whole server is built on: the fd and syscall layer (Snapshotter.Interop) and the FUSE ABI.
global using Snapshotter.Fuse.Protocol;
global using Snapshotter.Interop;
