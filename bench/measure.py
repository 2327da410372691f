"""Measuring helpers shared by the ingest benchmarks (`gpu_ingest`, `gpu_contexts`,
`write_path`): stage timers summed over threads, the SQLite write lock's wait and hold, and
spawned worker processes whose results come back through a queue."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


class Stages:
    """Seconds and calls per stage, summed over threads."""

    def __init__(self, sync: Callable[[], None]) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._sync = sync

    def wrap(self, owner: Any, name: str, stage: str, sync: bool = False) -> None:
        fn = getattr(owner, name)

        def timed(*args: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                out = fn(*args, **kw)
                if sync:
                    self._sync()
                return out
            finally:
                self.add(stage, time.perf_counter() - t0)

        setattr(owner, name, timed)

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] += seconds
            self.calls[stage] += 1

    def table(self, wall: float) -> dict[str, dict[str, float]]:
        return {
            k: {"seconds": round(v, 3), "calls": self.calls[k], "share_of_wall": round(v / wall, 3)}
            for k, v in sorted(self.seconds.items(), key=lambda kv: -kv[1])
        }


@contextmanager
def listening(*hooks: tuple[Any, str, Callable[..., None]]) -> Iterator[None]:
    """SQLAlchemy event listeners `(target, event name, function)` for the block's duration."""
    from sqlalchemy import event

    for target, name, fn in hooks:
        event.listen(target, name, fn)
    try:
        yield
    finally:
        for target, name, fn in hooks:
            event.remove(target, name, fn)


@contextmanager
def write_lock(engine: Any, add: Callable[[str, float], None]) -> Iterator[None]:
    """Time SQLite's write lock on `engine`, per thread: `add("lock_wait", s)` for each BEGIN
    IMMEDIATE's wait for the lock, `add("lock_held", s)` from its return to the end of the
    COMMIT (what every other writer of the database waits for)."""
    from sqlalchemy.orm import Session

    began: dict[int, float] = {}  # thread id -> BEGIN sent (negated key) or lock taken

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN IMMEDIATE"):
            began[-threading.get_ident()] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        t0 = began.pop(-threading.get_ident(), None)
        if t0 is not None:
            now = time.perf_counter()
            add("lock_wait", now - t0)
            began[threading.get_ident()] = now

    def committed(session: Any) -> None:
        t0 = began.pop(threading.get_ident(), None)
        if t0 is not None:
            add("lock_held", time.perf_counter() - t0)

    with listening(
        (engine, "before_cursor_execute", before),
        (engine, "after_cursor_execute", after),
        (Session, "after_commit", committed),
    ):
        yield


def run_children(
    ctx: Any, target: Callable[..., None], arg_tuples: Sequence[tuple[Any, ...]], results: Any
) -> list[dict[str, Any]]:
    """Start one `ctx` process per argument tuple, collect one result each from `results`
    (a child that fails puts `{"error": ...}`), join them; exits on the first failure."""
    procs = [ctx.Process(target=target, args=args) for args in arg_tuples]
    for proc in procs:
        proc.start()
    parts = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    failed = [p["error"] for p in parts if "error" in p]
    if failed:
        raise SystemExit(f"{getattr(target, '__module__', '')} process failed: {failed[0]}")
    return parts
