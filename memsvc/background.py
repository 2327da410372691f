"""The background worker: periodic tasks on one thread per lane until stopped.

Tasks are registered declaratively as (name, interval, function, lane); each run is isolated so
a failing task is logged and retried at its next interval without stopping the others. Tasks
that may block for long (LLM enrichment: one call can take many seconds) get a lane of their
own, so reinforcement flushes and index saves keep their pace behind a slow LLM.

Above the use cases it schedules (decay, jobs): whoever starts background work (the app's
lifespan, `Memory`, the cli) calls `start(rt)`, which hands each task the parts of the runtime
it uses; the runtime only holds the worker to stop it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from memsvc.runtime import Runtime
from memsvc.services import decay, jobs

log = logging.getLogger(__name__)


WARM_UP_ONCE = 1e12  # an interval that never comes round again


@dataclass
class Task:
    name: str
    interval_s: float
    run: Callable[[], object]
    lane: str = "main"
    # Seconds from start to the first run; None: one interval.
    first_after_s: float | None = None
    next_at: float = 0.0


def default_tasks(rt: Runtime) -> list[Task]:
    """The runtime's periodic work, each task bound to the parts of `rt` it uses."""
    db, settings, llm = rt.db, rt.settings, rt.llm
    reinforcer, indexes = rt.reinforcer, rt.indexes
    tasks = [
        Task("reinforce", 1.0, lambda: reinforcer.flush(db)),
        Task("save-indexes", settings.index.save_interval_s, indexes.save_dirty),
    ]
    if settings.decay.enabled:

        def sweep() -> decay.SweepResult:
            return decay.sweep(db=db, reinforcer=reinforcer, settings=settings)

        tasks.append(Task("decay-sweep", settings.decay.sweep_interval_s, sweep))
    if llm.enabled:
        ingest = rt.ingest_deps()
        jobs.reset_interrupted(db=db)
        # Once, at start, on the LLM lane: the first add then finds litellm imported.
        warm_up = Task("llm-warm-up", WARM_UP_ONCE, llm.warm_up, "llm", first_after_s=0)
        tasks.append(warm_up)
        tasks.append(Task("llm-jobs", 1.0, lambda: jobs.run_pending(deps=ingest), lane="llm"))
        # Jobs of a replica that died while running them (past jobs.RUNNING_LEASE).
        reclaim = Task("reclaim-jobs", 60.0, lambda: jobs.reset_interrupted(db=db), lane="llm")
        tasks.append(reclaim)
    return tasks


class Worker:
    def __init__(self, tasks: list[Task]) -> None:
        self.tasks = tasks
        self._stop = threading.Event()
        lanes: dict[str, list[Task]] = {}
        for task in self.tasks:
            lanes.setdefault(task.lane, []).append(task)
        self._threads = [
            threading.Thread(
                target=self._loop,
                args=(lane_tasks,),
                name="memsvc-worker" if lane == "main" else f"memsvc-worker-{lane}",
                daemon=True,
            )
            for lane, lane_tasks in lanes.items()
        ]
        now = time.monotonic()
        for task in self.tasks:
            first = task.first_after_s
            task.next_at = now + (task.interval_s if first is None else first)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _loop(self, tasks: list[Task]) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for task in tasks:
                if now >= task.next_at:
                    try:
                        task.run()
                    except Exception:
                        log.exception("background task %s failed", task.name)
                    task.next_at = time.monotonic() + task.interval_s
            wait = min((t.next_at for t in tasks), default=now + 1.0) - time.monotonic()
            self._stop.wait(max(0.05, min(wait, 1.0)))

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=30)


def start(rt: Runtime) -> None:
    """Start `rt`'s background work (what `Runtime.start_background` did): load the document
    model if it loads apart from the query path (memsvc.embed.sentence), then start the worker
    unless one runs or background work is off. `rt.close()` stops it."""
    preload = getattr(rt.embedder, "preload", None)
    if preload is not None:
        preload()
    if rt.worker is None and rt.settings.background:
        worker = Worker(default_tasks(rt))
        rt.worker = worker
        worker.start()
