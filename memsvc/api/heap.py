"""The server's heap and CPython's cyclic garbage collector.

Why: once a server has started, most of its heap is what the imports and the models made
(about 700,000 tracked objects with PyTorch and transformers loaded) and it lives as long as
the process. A full (generation 2) collection walks every tracked object: with a 100k-note
store open it stopped the process, every request in flight with it, for 232-370 ms about
once per thousand searches (bench/README.md, "Garbage-collector pauses"). `gc.freeze()`
moves every object that exists into a permanent generation that collections skip. Reference
counting still frees those objects; only reference cycles that were garbage at the moment of
the freeze are never collected, and right after a start there are few.

So the server freezes its heap once it has started, and once more when the document model
(loaded on a background thread, or at the first add: `embed.document_load`) is in. It
unfreezes at shutdown, so a process that starts and stops several apps (the tests) is left
as it was. `GcPauses` counts collections and their time per generation for /metrics.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

POLL_S = 0.2  # how often the watcher looks at the document model's state


class GcPauses:
    """Collections and their wall time per generation, from `gc.callbacks`. Callbacks run in
    whichever thread triggered the collection, with the interpreter lock held, and
    collections never overlap, so plain counters suffice."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        gen = int(info["generation"])
        took = time.perf_counter() - self._started
        self.counts[gen] += 1
        self.seconds[gen] += took
        self.longest[gen] = max(self.longest[gen], took)

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def lines(self) -> list[str]:
        out: list[str] = []
        for name, kind, help_, values in (
            ("memsvc_gc_collections_total", "counter", "Garbage collections.", self.counts),
            (
                "memsvc_gc_pause_seconds_total",
                "counter",
                "Time in garbage collections (every thread waits meanwhile).",
                self.seconds,
            ),
            ("memsvc_gc_pause_max_seconds", "gauge", "Longest collection.", self.longest),
        ):
            out += [f"# HELP {name} {help_} By generation.", f"# TYPE {name} {kind}"]
            out += [f'{name}{{generation="{g}"}} {v:.6g}' for g, v in enumerate(values)]
        out += [
            "# HELP memsvc_gc_frozen_objects Objects that collections skip (gc.freeze).",
            "# TYPE memsvc_gc_frozen_objects gauge",
            f"memsvc_gc_frozen_objects {gc.get_freeze_count()}",
        ]
        return out


class HeapFreezer:
    """Freezes the heap now and again when the embedder's document model has loaded;
    `close()` stops watching and unfreezes."""

    def __init__(self, embedder: object) -> None:
        self._embedder = embedder
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        gc.freeze()
        if self._loading():
            self._thread = threading.Thread(
                target=self._watch, name="memsvc-heap-freeze", daemon=True
            )
            self._thread.start()

    def _loading(self) -> bool:
        # "not loaded": `embed.document_load` lazy, the model comes with the first add.
        state = getattr(self._embedder, "documents_state", "loaded")
        return state in ("loading", "not loaded")

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            if not self._loading():
                gc.freeze()
                return

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        gc.unfreeze()
