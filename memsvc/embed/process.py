"""Documents embedded in a child process (`embed.documents_process`).

Why: a forward pass is a few hundred kernel launches, each a little Python holding the
interpreter lock. On a GPU the launches can be most of the cost, and with sixteen ingest
threads running Python beside it the embedding thread waits for the lock again and again: on
the H100 the forward of one turn took 1.8 ms inside ingest and 0.22 ms alone
(bench/README.md, "GPU ingest"). A process of its own has a lock of its own. The parent sends
a batch's texts down a pipe and gets its float32 rows back, waiting without the lock, so the
ingest threads run meanwhile.

The child is spawned (never forked: the parent may hold CUDA, threads, open databases) and
builds the parent's embedder class (`SentenceTransformerEmbedder`) with micro-batching off.
One batch at a time goes down the pipe; the parent's micro-batcher already makes them
large. If the child cannot start or dies, the parent logs it once and embeds in process from
then on: an add never fails because of the child.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from multiprocessing import get_context
from multiprocessing.connection import Connection
from typing import Any, Protocol

import numpy as np

from memsvc.config import EmbedSettings
from memsvc.embed.base import Vectors

log = logging.getLogger(__name__)


class _Encoder(Protocol):
    @property
    def dim(self) -> int: ...

    def encode_now(self, texts: Sequence[str]) -> Vectors: ...


# What the child builds its embedder with: a class or function importable by name (it is
# pickled by reference), given the settings; the parent passes its own embedder class.
Factory = Callable[[EmbedSettings], _Encoder]


def _serve(conn: Connection, settings: dict[str, Any], factory: Factory) -> None:
    """The child: load the model, say "ready", then answer batches until told to stop."""
    try:
        emb = factory(EmbedSettings(**settings))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", emb.dim))
    while True:
        try:
            texts = conn.recv()
        except EOFError:  # the parent is gone
            return
        if texts is None:
            return
        try:
            conn.send(("ok", emb.encode_now(texts)))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class ChildEncodeError(RuntimeError):
    """The child answered a batch with an error (the text broke the model, not the child)."""


class DocumentProcess:
    """`encode(texts)` in a child process; None from `encode` means "embed in process"
    (the child never started, died, or was closed)."""

    def __init__(self, settings: EmbedSettings, factory: Factory) -> None:
        child_settings = settings.model_dump(mode="json")
        # The child encodes what it is sent at once: batching happens in the parent.
        child_settings |= {
            "micro_batch": False,
            "documents_process": "off",
            "document_load": "startup",
            "query_engine": "torch",
            "cache_dir": None,
        }
        ctx = get_context("spawn")
        self._conn, child_end = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve,
            args=(child_end, child_settings, factory),
            name="memsvc-embed",
            daemon=True,
        )
        self._proc.start()
        child_end.close()
        self._lock = threading.Lock()
        self._ready = False
        self._broken = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def encode(self, texts: Sequence[str]) -> Vectors | None:
        with self._lock:
            if self._broken:
                return None
            try:
                if not self._ready:
                    self._wait_ready()
                self._conn.send(list(texts))
                status, payload = self._conn.recv()
            except (EOFError, OSError) as exc:
                self._fail(f"the embedding process stopped ({exc!r})")
                return None
            if status == "error":
                raise ChildEncodeError(payload)
            return np.asarray(payload, dtype=np.float32)

    def _wait_ready(self) -> None:
        status, payload = self._conn.recv()
        if status != "ready":
            raise OSError(f"the embedding process could not load the model: {payload}")
        self._ready = True

    def _fail(self, why: str) -> None:
        log.error("%s; embedding documents in this process from now on", why)
        self._broken = True
        self._stop()

    def _stop(self) -> None:
        if self._proc.is_alive():
            with contextlib.suppress(OSError):  # BrokenPipeError is an OSError
                self._conn.send(None)
            self._proc.join(timeout=10)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(timeout=5)
        self._conn.close()

    def close(self) -> None:
        with self._lock:
            if not self._broken:
                self._broken = True
                self._stop()
