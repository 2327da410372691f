"""Think-in-Memory operations: insert / merge / supersede / forget decisions."""

from memsvc.ops.compare import DISTINCT, SAME, UPDATE, new_details, relation
from memsvc.ops.tim import Decision, Existing, Incoming, decide, is_filler

__all__ = [
    "DISTINCT",
    "SAME",
    "UPDATE",
    "Decision",
    "Existing",
    "Incoming",
    "decide",
    "is_filler",
    "new_details",
    "relation",
]
