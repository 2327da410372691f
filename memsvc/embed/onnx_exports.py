"""Which ONNX Runtime sessions an embedder gets, and from where: the export cache's side of
`SentenceTransformerEmbedder`, kept apart from its PyTorch side (`memsvc.embed.sentence`).

It decides whether queries and documents run on ONNX Runtime (`embed.query_engine`,
`embed.documents_engine`), opens a checked export without PyTorch (`open_checked`, a cold
start's fast path), exports and checks one against a loaded PyTorch model (`export_and_check`,
the slow path, which records the check in a manifest), and opens the documents' own session
lazily (`documents_session`). Nothing here imports torch: the slow path receives the loaded
model and a reference function from the embedder.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memsvc.config import EmbedSettings
from memsvc.embed.base import Vectors

if TYPE_CHECKING:
    from memsvc.embed.onnx_model import OnnxEncoder

log = logging.getLogger(__name__)


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded (missing files, wrong path)."""


class OnnxExports:
    """The ONNX side of one embedder: its settings' choice of engines and its sessions."""

    def __init__(self, settings: EmbedSettings, model_path: str) -> None:
        self._settings = settings
        self._path = model_path
        self._cuda = settings.device.startswith("cuda")
        # Documents' own session, opened at the first document call: on the thread that makes
        # it (the micro-batcher's, at a lower priority), so its worker threads inherit that
        # priority; and apart from the queries' session, so a search never queues behind a
        # batch.
        self.documents = self.documents_engine() == "onnx"
        self._docs: OnnxEncoder | None = None
        self._docs_lock = threading.Lock()

    def wanted(self) -> bool:
        """Queries on ONNX Runtime: asked for, on a CPU, and installed (else an error if
        the setting insists on it)."""
        from memsvc.embed import onnx_model

        if self._settings.query_engine == "torch" or self._cuda:
            return False
        if not onnx_model.available():
            if self._settings.query_engine == "onnx":
                raise EmbedderError(
                    "embed.query_engine=onnx needs onnxruntime, onnx and tokenizers"
                )
            return False
        return True

    def documents_engine(self) -> str:
        """`embed.documents_engine` resolved: "onnx" on a CPU when the export can be had,
        "direct" on a GPU, else "encode"; an explicit "onnx" that cannot be had fails."""
        engine = self._settings.documents_engine
        if engine == "onnx" or (engine == "auto" and not self._cuda):
            if not self._cuda and self.wanted():
                return "onnx"
            if engine == "onnx":
                raise EmbedderError(
                    "embed.documents_engine=onnx needs a CPU device, onnxruntime, onnx and "
                    "tokenizers, and embed.query_engine other than torch"
                )
            return "encode"
        return "direct" if engine == "direct" or self._cuda else "encode"

    def folder(self) -> Path:
        from memsvc.embed import onnx_model

        return self._settings.onnx_dir or onnx_model.default_dir()

    def _open_verified(self) -> OnnxEncoder | None:
        from memsvc.embed import onnx_model

        return onnx_model.OnnxEncoder.open_verified(
            self._path,
            self.folder(),
            max_seq_length=self._settings.max_seq_length,
            threads=self._settings.torch_threads,
        )

    def _queries_int8(self) -> OnnxEncoder | None:
        """The int8 copy for queries, where `embed.query_precision` asks for it and it passes
        its check (None keeps them fp32)."""
        if self._settings.query_precision != "int8":
            return None
        from memsvc.embed import onnx_int8

        return onnx_int8.open_int8(
            self._path,
            self.folder(),
            max_seq_length=self._settings.max_seq_length,
            threads=self._settings.torch_threads,
        )

    def open_checked(self) -> OnnxEncoder | None:
        """The cached export that a manifest vouches for, opened without PyTorch (its int8
        copy under `query_precision` "int8"); None when there is none (or it fails to open:
        the slow path then checks and rebuilds it)."""
        if not self.wanted():
            return None
        try:
            return self._queries_int8() or self._open_verified()
        except Exception as exc:
            log.warning("cached ONNX query export unusable (%s): checking it again", exc)
            return None

    def export_and_check(
        self, model: Any, *, dim: int, reference: Callable[[str], Vectors]
    ) -> OnnxEncoder | None:
        """Export, check against PyTorch (`reference` embeds one text there) and record the
        check (manifest); None (queries stay on PyTorch) under "auto" if anything fails, and
        documents then stay on PyTorch too (an explicit `documents_engine=onnx` fails)."""
        from memsvc.embed import onnx_model

        strict = self._settings.query_engine == "onnx"
        folder = self.folder()
        try:
            enc, manifest = onnx_model.OnnxEncoder.load(
                model, self._path, folder, dim=dim, threads=self._settings.torch_threads
            )
            diff = onnx_model.max_difference(enc, reference)
            if diff > onnx_model.MAX_DIFF:
                raise EmbedderError(f"ONNX query vectors differ from PyTorch's by {diff:.2g}")
        except Exception as exc:
            if strict:
                raise EmbedderError(f"ONNX query encoder unavailable: {exc}") from exc
            if self._settings.documents_engine == "onnx":
                raise EmbedderError("embed.documents_engine=onnx: the ONNX export failed") from exc
            log.warning("queries stay on PyTorch: ONNX query encoder unavailable (%s)", exc)
            self.documents = False
            return None
        try:
            onnx_model.save_manifest(folder, manifest, diff)
        except OSError as exc:  # a read-only cache: this start is fine, the next checks again
            log.warning("could not record the ONNX export's check: %s", exc)
        log.info("single queries on ONNX Runtime (max |diff| to PyTorch %.1g)", diff)
        return self._queries_int8() or enc

    @staticmethod
    def agrees(enc: OnnxEncoder, reference: Callable[[str], Vectors]) -> bool:
        """Whether a cached export still matches the PyTorch model loaded beside it (an int8
        copy: within its cosine bound)."""
        from memsvc.embed import onnx_model

        if enc.precision == "int8":
            from memsvc.embed import onnx_int8

            cosine = onnx_int8.min_cosine(enc, reference)
            if cosine < onnx_int8.MIN_COSINE:
                log.error("int8 queries reach cosine %.4f with PyTorch: using PyTorch", cosine)
                return False
            return True
        diff = onnx_model.max_difference(enc, reference)
        if diff > onnx_model.MAX_DIFF:
            log.error("cached ONNX queries differ from PyTorch by %.2g: using PyTorch", diff)
            return False
        return True

    def documents_session(self) -> OnnxEncoder | None:
        """The documents' ONNX session (opened on first use from the checked export), or
        None for PyTorch: documents not on ONNX, or the export could not be opened again
        (documents then stay on PyTorch)."""
        if not self.documents:
            return None
        with self._docs_lock:
            if self._docs is None:
                self._docs = self._open_verified()
                if self._docs is None:  # the cache went away or changed since start
                    log.warning("documents move to PyTorch: the ONNX export did not reopen")
                    self.documents = False
            return self._docs
