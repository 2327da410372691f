"""The background worker: one thread that runs periodic tasks until stopped.

Tasks are registered declaratively as (name, interval, function); each run is isolated so a
failing task is logged and retried at its next interval without stopping the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memsvc.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class Task:
    name: str
    interval_s: float
    run: Callable[[], object]
    next_at: float = 0.0


def default_tasks(rt: Runtime) -> list[Task]:
    from memsvc.services import decay, jobs

    tasks = [
        Task("reinforce", 1.0, lambda: rt.reinforcer.flush(rt.db)),
        Task("save-indexes", rt.settings.index.save_interval_s, rt.indexes.save_dirty),
    ]
    if rt.settings.decay.enabled:
        tasks.append(
            Task("decay-sweep", rt.settings.decay.sweep_interval_s, lambda: decay.sweep(rt))
        )
    if rt.llm.enabled:
        jobs.reset_interrupted(rt)
        tasks.append(Task("llm-jobs", 1.0, lambda: jobs.run_pending(rt)))
    return tasks


class Worker:
    def __init__(self, rt: Runtime, tasks: list[Task] | None = None) -> None:
        self.tasks = tasks if tasks is not None else default_tasks(rt)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memsvc-worker", daemon=True)
        now = time.monotonic()
        for task in self.tasks:
            task.next_at = now + task.interval_s

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for task in self.tasks:
                if now >= task.next_at:
                    try:
                        task.run()
                    except Exception:
                        log.exception("background task %s failed", task.name)
                    task.next_at = time.monotonic() + task.interval_s
            wait = min((t.next_at for t in self.tasks), default=now + 1.0) - time.monotonic()
            self._stop.wait(max(0.05, min(wait, 1.0)))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
