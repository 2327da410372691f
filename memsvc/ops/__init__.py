"""Think-in-Memory operations: insert / merge / supersede / forget decisions."""

from memsvc.ops.tim import Decision, Existing, Incoming, decide, is_filler

__all__ = ["Decision", "Existing", "Incoming", "decide", "is_filler"]
