"""Stores: the long-lived, database-backed state the runtime holds (index registry,
reinforcement buffer, partition clocks, the change log replicas follow).

Below the use cases in `memsvc.services` and the composition root `memsvc.runtime`: a store
imports db and the engines (index, graph, text), never a service or the runtime (checked by
the import-linter contracts in pyproject.toml).
"""
