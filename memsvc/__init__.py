"""memsvc: long-term memory for AI agents.

from memsvc import Memory                 # in-process (SQLite + local index folder)
from memsvc.client import MemoryClient    # the same calls against a memsvc server
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from memsvc.local import Memory


def __getattr__(name: str) -> Any:
    # Lazy: `import memsvc.config` must not pull in torch and the model.
    if name == "Memory":
        from memsvc.local import Memory

        return Memory
    raise AttributeError(f"module 'memsvc' has no attribute {name!r}")


__all__ = ["Memory", "__version__"]
