// Mount tests share the kernel's FUSE and EROFS state (and drop caches): run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
