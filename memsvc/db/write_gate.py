"""Writers to one SQLite file take turns on a lock that hands over at once.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps
1, 2, 5, 10, ... then 25 to 100 ms between tries. With many writers (16 ingest processes of 4
threads on the GPU machine) the write lock sat free while they slept (bench/README, "the
write gate"). Here a write transaction (``BEGIN IMMEDIATE``) first takes this process's
thread lock, whose waiters wake when it is released, then an advisory lock on
``<database>-write.lock`` shared by every process on the file (``flock``, tried again every
millisecond at most); SQLite's own lock is then free when ``BEGIN IMMEDIATE`` asks for it. The
gate is released when the transaction ends (commit, rollback or close of the connection).

SQLite's lock still decides who writes: the gate only orders writers that would otherwise
sleep. It gives up after the same ``busy_timeout`` with the same "database is locked" error.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any


class WriteGate:
    def __init__(self, database: Path, timeout_s: float) -> None:
        self.path = database.with_name(database.name + "-write.lock")
        self.timeout_s = timeout_s
        self._threads = threading.Lock()
        # One descriptor per process: only the thread holding `_threads` uses it, and flock
        # locks belong to the open file, so threads of one process never share the lock.
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        weakref.finalize(self, os.close, self._fd)

    def enter(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        if not self._threads.acquire(timeout=self.timeout_s):
            raise sqlite3.OperationalError("database is locked")
        try:
            pause = 0.00005
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise sqlite3.OperationalError("database is locked") from None
                    time.sleep(pause)
                    pause = min(2 * pause, 0.001)
        except BaseException:
            self._threads.release()
            raise

    def leave(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that leaves its gate when its transaction ends (after the COMMIT
    itself: SQLAlchemy's commit event comes before it)."""

    gate: WriteGate | None = None
    holding = False

    def enter_gate(self) -> None:
        if self.gate is not None and not self.holding:
            self.gate.enter()
            self.holding = True

    def leave_gate(self) -> None:
        if self.holding:
            self.holding = False
            assert self.gate is not None
            self.gate.leave()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_gate()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_gate()


def gated(dbapi_connection: Any) -> GatedConnection | None:
    return dbapi_connection if isinstance(dbapi_connection, GatedConnection) else None
