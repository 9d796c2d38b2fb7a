// Only one process may hold /dev/cachefiles at a time: the kernel tests run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
