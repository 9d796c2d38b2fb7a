// The tests mount filesystems, attach loop devices and count mounts and loop devices of the whole host: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
