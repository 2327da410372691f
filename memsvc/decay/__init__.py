"""MemoryBank decay: pure Ebbinghaus math (no tables, no clocks)."""

from memsvc.decay.retention import reinforce, retention, retention_many

__all__ = ["reinforce", "retention", "retention_many"]
