"""Single-query encoding on ONNX Runtime: the same transformer and mean pooling as the loaded
sentence-transformers model, exported from it once and cached on disk.

Why: a search embeds one short query, and for one short text PyTorch's per-module Python
overhead is most of the cost (~8 ms for MiniLM on 2 cores, against ~3 ms through ONNX
Runtime, whose output matches to ~1e-7). Documents keep going through PyTorch in batches,
where that overhead is amortised. The export is checked against PyTorch on probe texts
before it is used; any failure (no onnxruntime, a read-only cache, a model that does not
export) leaves queries on PyTorch, which gives the same vectors."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Bump when the exported graph changes, so old cache files are not reused.
EXPORT_VERSION = "1"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PROBES = (
    "hi",
    "What did I say about my sister's wedding last June?",
    "  Leading and trailing spaces, UPPER case, and ünïcödé — plus emoji 🙂.  ",
)
MAX_DIFF = 1e-4  # largest accepted |onnx - torch| of a unit vector's coordinate


def default_dir() -> Path:
    """Shared by every data folder on the machine (it is derived from the model alone)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "memsvc" / "onnx"


def available() -> bool:
    """Both installed (onnx is what torch.onnx.export writes with); found, not imported, so
    a start whose export is cached never loads onnx."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("onnx", "onnxruntime"))


def _key(model_path: str) -> str:
    """Names the export after the model files (name, size, mtime) and the library versions."""
    import onnxruntime
    import torch
    import transformers

    h = hashlib.sha256(f"{EXPORT_VERSION}|{torch.__version__}|{transformers.__version__}|".encode())
    h.update(onnxruntime.__version__.encode())
    root = Path(model_path)
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:24]


def _export(transformer: Any, tokenizer: Any, target: Path) -> None:
    import torch

    class Pooled(torch.nn.Module):
        """Transformer -> mean over real tokens -> unit length (sentence-transformers' own
        pooling and Normalize modules for this model)."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            out = self.inner(input_ids=ids, attention_mask=mask, token_type_ids=types)
            weights = mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
            summed = (out.last_hidden_state * weights).sum(1)
            mean = summed / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    sample = tokenizer([PROBES[1]], return_tensors="pt")
    args = tuple(sample[k] for k in _INPUTS)
    axes = {k: {0: "batch", 1: "tokens"} for k in _INPUTS} | {"embedding": {0: "batch"}}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        # The tracer warns about Python branches on shapes; they are constant for every
        # input whose mask covers its tokens, which is what the tokenizer produces.
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(transformer).eval(),
                args,
                tmp,
                input_names=list(_INPUTS),
                output_names=["embedding"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, target)  # atomic: a reader never sees half a file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class OnnxQueryEncoder:
    """Encodes one text like the sentence-transformers model it was exported from."""

    def __init__(self, session: Any, tokenizer: Any, max_length: int, lowercase: bool) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._max_length = max_length
        self._lowercase = lowercase
        # A fast tokenizer may reset its truncation state inside a call, which is not safe
        # from two threads at once; tokenizing is ~0.1 ms, the model run stays concurrent.
        self._tok_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        st_model: Any,
        model_path: str,
        folder: Path,
        *,
        threads: int | None = None,
    ) -> OnnxQueryEncoder:
        """Export (once per model and library versions) and open an ONNX Runtime session."""
        import onnxruntime as ort

        first = st_model[0]
        target = folder / f"{_key(model_path)}.onnx"
        if not target.exists():
            _export(first.auto_model, first.tokenizer, target)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or 0  # 0: ONNX Runtime picks the core count
        opts.log_severity_level = 3
        # ONNX Runtime's workers busy-wait after each run by default, which steals the cores
        # from everything else in a server (request handling, the database, other queries).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(target), opts, providers=["CPUExecutionProvider"])
        except Exception:
            target.unlink(missing_ok=True)  # a damaged cache file: export again next start
            raise
        lowercase = bool(getattr(first, "do_lower_case", False))
        return cls(session, first.tokenizer, int(st_model.max_seq_length), lowercase)

    def encode(self, text: str) -> np.ndarray:
        # The same preparation as sentence-transformers' Transformer module: strip,
        # lowercase if the model asks for it, truncate to max_seq_length.
        text = text.strip()
        if self._lowercase:
            text = text.lower()
        with self._tok_lock:
            enc = self._tokenizer(
                [text], truncation="longest_first", max_length=self._max_length, return_tensors="np"
            )
        feeds = {k: np.asarray(enc[k], dtype=np.int64) for k in _INPUTS}
        out = self._session.run(None, feeds)[0]
        return np.ascontiguousarray(out[0], dtype=np.float32)
