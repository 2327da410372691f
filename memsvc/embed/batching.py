"""Micro-batching of document embeddings: concurrent callers share one forward pass.

Why: a server embeds each add's notes on its own request thread. Behind a lock, thirty
concurrent adds run thirty small forward passes one after another, and each waits for all
the ones queued before it. A transformer on a CPU (or a GPU) costs about the same for one
short text as for a dozen, so one pass over everything that is waiting serves all of them
in roughly the time of one.

How: callers put a request (their texts and a `Future`) on a queue; one worker thread takes
the first request, keeps collecting for up to `max_wait_s` or until `max_batch` texts are
in hand, runs one `encode` over the concatenation and hands each caller its own rows, in its
own order. While a pass runs, new requests pile up and form the next batch, so under load
batches grow by themselves and the wait adds nothing. If a shared pass fails, each request
is retried alone, so a text that breaks the model fails only its own caller.

Queries do not come through here (`Embedder.embed_query` has its own path): a search must
never queue behind a large document batch.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from memsvc.embed.base import Vectors

log = logging.getLogger(__name__)

Encode = Callable[[list[str]], Vectors]


@dataclass
class _Request:
    texts: list[str]
    future: Future[Vectors] = field(default_factory=Future)


class MicroBatcher:
    """Runs `encode` for many threads on one worker thread, in shared batches.

    `embed(texts)` blocks until its rows are ready and returns exactly what `encode(texts)`
    would (row order kept); an exception raised by `encode` is raised in every caller whose
    texts it concerns. Thread-safe; the worker starts on first use and stops at `close()`,
    after which calls run `encode` inline on the caller's thread."""

    def __init__(
        self,
        encode: Encode,
        *,
        dim: int,
        max_wait_s: float = 0.002,
        max_batch: int = 256,
        nice: int = 0,
        name: str = "memsvc-embed-batcher",
    ) -> None:
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be >= 1 and max_wait_s >= 0")
        self._encode = encode
        self._dim = dim
        self.max_wait_s = max_wait_s
        self.max_batch = max_batch
        self.nice = nice
        self._name = name
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        # Counters for tests and metrics: passes run and requests served.
        self.batches = 0
        self.requests = 0

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        if threading.current_thread() is self._thread:
            return self._encode(list(texts))  # re-entered from encode: waiting would deadlock
        request = _Request(list(texts))
        with self._lock:
            if self._closed:
                inline = True
            else:
                inline = False
                self._ensure_started()
                self._queue.put(request)
        if inline:
            return self._encode(request.texts)
        return request.future.result()

    def close(self, timeout: float = 30.0) -> None:
        """Stop the worker after it has served everything already queued."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join(timeout)

    def _ensure_started(self) -> None:
        if self._thread is None:
            # Daemon: a process that exits without close() must not hang on this thread.
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def _lower_priority(self) -> None:
        """Linux only, where a thread has a nice value of its own (elsewhere this would renice
        the whole process). The math library's worker threads, created by this thread on its
        first encode, inherit it; searches and the event loop then win the cores."""
        if self.nice <= 0 or not sys.platform.startswith("linux"):
            return
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + self.nice)
        except OSError as exc:
            log.warning("could not lower the embedding thread's priority: %s", exc)

    def _loop(self) -> None:
        self._lower_priority()
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch, size = [first], len(first.texts)
            deadline = time.monotonic() + self.max_wait_s
            # The batch may overshoot max_batch by one request: a request is never split.
            while size < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    # Past the deadline, whatever is already queued still joins the batch.
                    nxt = (
                        self._queue.get(timeout=remaining)
                        if remaining > 0
                        else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True  # close(): serve this batch, then leave
                    break
                batch.append(nxt)
                size += len(nxt.texts)
            self._run(batch)
        self._drain()

    def _drain(self) -> None:
        """Requests queued after the sentinel (a race with close) are still served."""
        while True:
            try:
                request = self._queue.get_nowait()
            except queue.Empty:
                return
            if request is not None:
                self._run([request])

    def _run(self, batch: list[_Request]) -> None:
        batch = [r for r in batch if r.future.set_running_or_notify_cancel()]
        if not batch:
            return
        self.batches += 1
        self.requests += len(batch)
        texts = [t for r in batch for t in r.texts]
        try:
            vectors = self._encode(texts)
        except BaseException as exc:  # whatever it is, the callers must hear of it, not hang
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            log.warning("shared embedding batch failed (%s); retrying each request alone", exc)
            for request in batch:
                self._run_alone(request)
            return
        start = 0
        for request in batch:
            end = start + len(request.texts)
            request.future.set_result(vectors[start:end])
            start = end

    def _run_alone(self, request: _Request) -> None:
        try:
            request.future.set_result(self._encode(request.texts))
        except BaseException as exc:
            request.future.set_exception(exc)
