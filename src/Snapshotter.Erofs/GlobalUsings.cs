// The namespaces the whole library speaks: the OCI vocabulary it converts from and the EROFS on-disk format it
// reads and writes.
global using Snapshotter.Erofs.Format;
global using Snapshotter.Oci;
