// The solution's namespaces the host is composed of: its configuration, the snapshot core, the lazy-image backends,
// the registry client with its OCI vocabulary, and telemetry.
global using Snapshotter.Configuration;
global using Snapshotter.Core;
global using Snapshotter.Core.Remote;
global using Snapshotter.Lazy;
global using Snapshotter.Oci;
global using Snapshotter.Registry;
global using Snapshotter.Telemetry;
