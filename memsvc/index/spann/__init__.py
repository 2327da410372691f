"""SPANN-like vector index: balanced clustering into heads kept in RAM, replicated posting lists
kept on disk, query-aware pruning, SPFresh-style online updates, crash-safe folder."""

from memsvc.index.spann.index import SpannIndex
from memsvc.index.spann.params import SpannParams
from memsvc.index.spann.storage import IndexBusyError

__all__ = ["IndexBusyError", "SpannIndex", "SpannParams"]
