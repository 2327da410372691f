"""The embedding model on ONNX Runtime: the same transformer and mean pooling as the loaded
sentence-transformers model, exported from it once, checked against it and cached on disk.

Why: for one short query PyTorch's per-module Python overhead is most of the cost (~8 ms for
MiniLM on 2 cores, against ~3 ms through ONNX Runtime, whose output matches to ~1e-7); document
batches on a CPU run a little faster too, and need no PyTorch in the process (bench/README.md,
"documents on ONNX Runtime"). `OnnxEncoder.encode` embeds one text, `encode_batch` several at
once, padded to the longest. Any failure (no onnxruntime, a read-only cache, a model that does
not export) leaves the embedder on PyTorch, which gives the same vectors.

The cache, per model files and library versions (`cache_key`): `<key>.onnx` (the graph),
`<key>.plain.tokenizer.json` (the model's fast tokenizer without truncation, saved by the
`tokenizers` library; older versions wrote `<key>.tokenizer.json` with sentence-transformers'
truncation in it, and keep theirs) and
`<key>.<check>-<max_seq_length>.json`, a manifest written only after the export's vectors
matched PyTorch's on the probe texts, one at a time and as one padded batch. The manifest is
named by what it vouches for, so two memsvc versions (or settings) sharing the cache each keep
their own instead of overwriting each other's and checking again at every start. It records
the sha256 of both files, so a later start (`open_verified`) can trust them without PyTorch: it
reads the files once, checks their hashes and opens the session from those very bytes. Neither
torch nor transformers is imported on that path, which is most of a cold start (issue 16 item
5)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from memsvc.embed import onnx_fuse

log = logging.getLogger(__name__)

# Bump when the exported graph or the cache layout changes, so old files are not reused.
EXPORT_VERSION = "3"  # 3: eager attention, fused (`memsvc.embed.onnx_fuse`)
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_LIBRARIES = ("torch", "transformers", "sentence-transformers", "onnxruntime", "tokenizers")
PROBES = (
    "hi",
    "What did I say about my sister's wedding last June?",
    "  Leading and trailing spaces, UPPER case, and ünïcödé — plus emoji 🙂.  ",
    # Longer than any max_seq_length in use: the check covers truncation too.
    " ".join(["We talked about the long trip to the coast and the hotel there."] * 60),
)
MAX_DIFF = 1e-4  # largest accepted |onnx - torch| of a unit vector's coordinate
# Names the check a manifest vouches for: other probes, another bound or another way of
# checking (here: each probe alone and all of them as one padded batch) must check again.
CHECK_ID = hashlib.sha256(repr((PROBES, MAX_DIFF, "alone+batch")).encode()).hexdigest()[:16]


def default_dir() -> Path:
    """Shared by every data folder on the machine (it is derived from the model alone)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "memsvc" / "onnx"


def available() -> bool:
    """All installed (onnx is what torch.onnx.export writes with); found, not imported, so
    a start whose export is cached never loads onnx."""
    from importlib.util import find_spec

    return all(find_spec(n) is not None for n in ("onnx", "onnxruntime", "tokenizers"))


def cache_key(model_path: str) -> str:
    """Names the export after the model files (name, size, mtime) and the library versions,
    read from the installed metadata so that nothing heavy is imported to compute it."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256(f"{EXPORT_VERSION}|".encode())
    for lib in _LIBRARIES:
        try:
            h.update(f"{lib}={version(lib)}|".encode())
        except PackageNotFoundError:
            h.update(f"{lib}=none|".encode())
    root = Path(model_path)
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:24]


# The tokenizer file's name after `<key>.`: not the older versions' "tokenizer.json", whose
# content (with truncation) they check against their own manifests, so a version from before
# and one from after can share a cache without each rewriting the other's file.
TOKENIZER = "plain.tokenizer.json"


def manifest_path(folder: Path, key: str, max_seq_length: int) -> Path:
    """Where the check of export `key` under this CHECK_ID and max_seq_length is recorded."""
    return folder / f"{key}.{CHECK_ID}-{max_seq_length}.json"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(target: Path, data: bytes) -> None:
    """`.tmp` + `os.replace`: a reader (another process starting) never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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

    # Eager attention exports as plain MatMul/Softmax, which ONNX Runtime's transformer
    # fusions recognise (`onnx_fuse`); PyTorch's SDPA exports as a graph they do not. Restored
    # after: the loaded model keeps serving documents (GPU, fallback) as configured.
    previous = getattr(transformer.config, "_attn_implementation", None)
    eager = previous is not None and hasattr(transformer, "set_attn_implementation")
    if eager:
        transformer.set_attn_implementation("eager")
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
        # The fused graph must give the plain graph's vectors on the probes (any length the
        # model's positions hold: both graphs get the same inputs), alone and as a batch.
        probes = [
            tokenizer([p], truncation=True, max_length=256, return_tensors="np") for p in PROBES
        ]
        batch = tokenizer(
            list(PROBES), padding=True, truncation=True, max_length=256, return_tensors="np"
        )
        feeds = [
            {k: np.asarray(enc[k], dtype=np.int64) for k in _INPUTS} for enc in [*probes, batch]
        ]
        onnx_fuse.fuse(tmp, transformer.config, feeds)
        os.replace(tmp, target)  # atomic: a reader never sees half a file
    finally:
        if eager:
            transformer.set_attn_implementation(previous)
        if os.path.exists(tmp):
            os.unlink(tmp)


def _session(model: bytes, threads: int | None) -> Any:
    """An ONNX Runtime session on the CPU whose workers never spin. ONNX Runtime's workers
    busy-wait after each run by default, which steals the cores from everything else in a
    server (request handling, the database, other queries). Spinning only within a run
    (`session.force_spinning_stop`) made one query ~25 % faster in process, but not over HTTP,
    and it raised search p99 under 30 clients by ~7 % (bench/README.md, "the query's
    embedding at 100k"): not kept."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = threads or 0  # 0: ONNX Runtime picks the core count
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def _tokenizer(spec: bytes, max_length: int) -> Any:
    """sentence-transformers' tokenizer call for one text (`truncation="longest_first"`,
    `max_length=max_seq_length`, no padding), on the `tokenizers` library alone."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(spec.decode())
    tok.no_padding()
    tok.enable_truncation(max_length, strategy="longest_first", stride=0, direction="right")
    return tok


def _settings_free(spec: str) -> bytes:
    """The tokenizer without the truncation and padding that sentence-transformers set on it
    (`_tokenizer` sets its own): one file per model, whatever max_seq_length a start uses, so
    starts with different settings do not rewrite it under each other's manifests."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(spec)
    tok.no_truncation()
    tok.no_padding()
    return str(tok.to_str()).encode()


class OnnxEncoder:
    """Encodes texts like the sentence-transformers model it was exported from."""

    def __init__(self, session: Any, tokenizer: Any, *, dim: int, precision: str = "fp32") -> None:
        self._session = session
        self.precision = precision  # "int8": memsvc.embed.onnx_int8's copy (queries only)
        # Truncation is set once at construction and never changed, so concurrent encode
        # calls share the tokenizer without a lock (the ONNX Runtime session is safe too).
        self._tokenizer = tokenizer
        self.dim = dim

    @classmethod
    def load(
        cls,
        st_model: Any,
        model_path: str,
        folder: Path,
        *,
        dim: int,
        threads: int | None = None,
    ) -> tuple[OnnxEncoder, dict[str, Any]]:
        """Export (once per model and library versions) and open a session; returns the
        encoder and the manifest to `save_manifest` once it has been checked."""
        first = st_model[0]
        key = cache_key(model_path)
        target, tok_file = folder / f"{key}.onnx", folder / f"{key}.{TOKENIZER}"
        backend = getattr(first.tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise RuntimeError("the model has no fast tokenizer (the `tokenizers` library)")
        if not target.exists():
            _export(first.auto_model, first.tokenizer, target)
        spec = _settings_free(backend.to_str())
        if not tok_file.exists() or tok_file.read_bytes() != spec:
            _write_atomic(tok_file, spec)
        model = target.read_bytes()
        try:
            session = _session(model, threads)
        except Exception:
            target.unlink(missing_ok=True)  # a damaged cache file: export again next start
            raise
        max_length = int(st_model.max_seq_length)
        manifest = {
            "export_version": EXPORT_VERSION,
            "key": key,
            "check": CHECK_ID,
            "onnx_sha256": _sha256(model),
            "tokenizer_sha256": _sha256(spec),
            "dim": dim,
            "max_seq_length": max_length,
        }
        enc = cls(session, _tokenizer(spec, max_length), dim=dim)
        return enc, manifest

    @classmethod
    def open_verified(
        cls,
        model_path: str,
        folder: Path,
        *,
        max_seq_length: int,
        threads: int | None = None,
    ) -> OnnxEncoder | None:
        """The cached export without PyTorch, if its manifest vouches for exactly these files
        (`verified_files`); None otherwise."""
        verified = verified_files(model_path, folder, max_seq_length)
        if verified is None:
            return None
        manifest, model, spec = verified
        session = _session(model, threads)
        return cls(session, _tokenizer(spec, max_seq_length), dim=int(manifest["dim"]))

    def encode(self, text: str) -> np.ndarray:
        # The text as sentence-transformers hands it to the tokenizer: its do_lower_case
        # lives in the saved tokenizer's normalizer, truncation is set in `_tokenizer`.
        enc = self._tokenizer.encode(text)
        feeds = {
            name: np.asarray([ids], dtype=np.int64)
            for name, ids in zip(_INPUTS, (enc.ids, enc.attention_mask, enc.type_ids), strict=True)
        }
        out = self._session.run(None, feeds)[0]
        return np.ascontiguousarray(out[0], dtype=np.float32)

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Several texts in one run, each padded to the longest: pads are masked out of the
        attention and of the mean, so a text's vector is the one it gets alone (checked with
        the probes as one batch). Callers group texts of similar length (padding costs)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encs = self._tokenizer.encode_batch(list(texts))
        longest = max(len(e.ids) for e in encs)
        feeds = {name: np.zeros((len(encs), longest), dtype=np.int64) for name in _INPUTS}
        for row, enc in enumerate(encs):
            n = len(enc.ids)
            feeds["input_ids"][row, :n] = enc.ids
            feeds["attention_mask"][row, :n] = enc.attention_mask
            feeds["token_type_ids"][row, :n] = enc.type_ids
        out = self._session.run(None, feeds)[0]
        return np.ascontiguousarray(out, dtype=np.float32)


def verified_files(
    model_path: str, folder: Path, max_seq_length: int
) -> tuple[dict[str, Any], bytes, bytes] | None:
    """(manifest, graph bytes, tokenizer bytes) of the cached export, if its manifest vouches
    for exactly these files (sha256), this model and library versions, these probes and this
    max_seq_length; None otherwise. Files that do not match their manifest are deleted, so
    the slow path exports and checks them again."""
    key = cache_key(model_path)
    target, tok_file = folder / f"{key}.onnx", folder / f"{key}.{TOKENIZER}"
    manifest_file = manifest_path(folder, key, max_seq_length)
    try:
        manifest = json.loads(manifest_file.read_text())
        model, spec = target.read_bytes(), tok_file.read_bytes()
    except (OSError, ValueError):
        return None  # never checked (or an older cache): the slow path checks it
    expected = (EXPORT_VERSION, key, CHECK_ID, max_seq_length)
    found = tuple(manifest.get(k) for k in ("export_version", "key", "check", "max_seq_length"))
    if found != expected:
        return None  # checked under other settings: check again, keep the files
    if manifest.get("onnx_sha256") != _sha256(model) or manifest.get("tokenizer_sha256") != _sha256(
        spec
    ):
        log.warning("cached ONNX export %s does not match its manifest: rebuilding", key)
        for f in (manifest_file, target, tok_file):
            f.unlink(missing_ok=True)
        return None
    return manifest, model, spec


def save_manifest(folder: Path, manifest: dict[str, Any], max_diff: float) -> None:
    """Records that the export matched PyTorch (largest difference `max_diff`) on PROBES."""
    record = {**manifest, "max_diff": max_diff, "verified_at": datetime.now(UTC).isoformat()}
    target = manifest_path(folder, manifest["key"], int(manifest["max_seq_length"]))
    _write_atomic(target, json.dumps(record, indent=1).encode())


def max_difference(enc: OnnxEncoder, reference: Any, texts: Sequence[str] = PROBES) -> float:
    """Largest |coordinate difference| between the encoder and `reference(text)`, over each
    text alone and all of them as one padded batch (the documents' path)."""
    want = np.stack([reference(t) for t in texts])
    alone = np.stack([enc.encode(t) for t in texts])
    batch = enc.encode_batch(texts)
    return float(max(np.abs(alone - want).max(), np.abs(batch - want).max()))
