"""Replicas on one database: a follower thread per process keeps its in-memory indexes in
step with writes made by other processes (link expansion reads the database per search, so
it needs no following).

Every `interval` seconds the follower reads the version of every partition this process
holds in memory (one query per 500 partitions) and lets the registry catch up the changed
ones from the change log, or forget the erased ones. Searches themselves read nothing more
than before, so a single process keeps its speed; another replica's write is visible after at
most one interval plus the catch-up (a few milliseconds for a few notes).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Protocol

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 60.0


class Followed(Protocol):
    """What the follower drives (`memsvc.stores.indexes.IndexRegistry`), named here so that
    this module need not import the registry that imports it."""

    def follow_once(self) -> None: ...

    def prune_change_log(self) -> object: ...


class Follower:
    """The thread; holds the registry weakly so a registry nobody closed still goes away."""

    def __init__(self, registry: Followed, interval_s: float) -> None:
        self._ref = weakref.ref(registry)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memsvc-follower", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        next_prune = time.monotonic() + PRUNE_EVERY_S
        while not self._stop.wait(self.interval_s):
            registry = self._ref()
            if registry is None:
                return
            try:
                registry.follow_once()
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_EVERY_S
                    registry.prune_change_log()
            except Exception:  # a dropped connection, a database restart: try next interval
                log.warning("replica follower step failed", exc_info=True)
            del registry

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
