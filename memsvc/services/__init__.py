"""Services: the use cases (ingest, recall, CRUD, decay, jobs). Each takes a Session explicitly
and, as keyword arguments, the few long-lived parts it uses (the index registry, the
embedder, a settings section; the write path's `memsvc.deps.IngestDeps`, the read path's
`memsvc.deps.RecallDeps`, editing and deleting one memory's `memsvc.deps.MemoryDeps`), never
the runtime; none knows about HTTP."""
