"""Queries through an int8 copy of the checked export (`embed.query_precision = "int8"`).

Why: on a CPU a single query's time is the MatMuls, and for a query of ~20 tokens they are
bound by reading the model's ~42 MB of fp32 weights, not by arithmetic (ONNX Runtime's
profile: MatMul and Attention ~80 % of a run). ONNX Runtime's dynamic quantization stores the
MatMul weights as int8, one scale per output channel, and quantizes the activations at run
time: a quarter of the bytes and VNNI instructions where the CPU has them. Measured on 2
cores: a query 6.2 -> 3.4 ms alone, a search at 100k notes over HTTP 0.82-0.87 of fp32's p50
(bench/README.md, "the query's embedding at 100k").

Not the same vectors: the copy is checked against the fp32 export it was made from, on the
same probes, and used only if every vector keeps a cosine of at least MIN_COSINE with its
fp32 twin; recall with it is one question lower at each level on LongMemEval dev and within
0.3 of a point on LoCoMo dev5 (the copy of the fused export; eval/README.md), so it is not
the default. Documents stay fp32: the copy serves queries only. The copy and the
record of its check live beside the export (`<key>.int8.onnx`, `<key>.<check>-<len>-int8.json`)
and name the fp32 file they came from (its sha256), so a new export makes a new copy.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from memsvc.embed import onnx_model
from memsvc.embed.onnx_model import OnnxEncoder

log = logging.getLogger(__name__)

# Lowest accepted cosine between a probe's int8 and fp32 vectors: measured 0.980 for "hi" and
# 0.993-0.994 for the others, 0.992-0.997 over 100 LongMemEval questions; a broken copy is
# far below.
MIN_COSINE = 0.97


def _files(folder: Path, key: str, max_seq_length: int) -> tuple[Path, Path]:
    check = onnx_model.manifest_path(folder, key, max_seq_length)
    return folder / f"{key}.int8.onnx", check.with_name(check.stem + "-int8.json")


def _quantize(model: bytes, target: Path) -> None:
    """`model` (the verified fp32 bytes) quantized into `target`, atomically."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    # The quantizer logs ~50 lines on the root logger (advice for image models, every MatMul
    # it skips): once per machine, at a start, and nothing a user can act on.
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(
            onnx.load_from_string(model),
            tmp,
            weight_type=QuantType.QInt8,
            per_channel=True,
            # The exporter leaves some intermediate types to shape inference; they are fp32.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        os.replace(tmp, target)
    finally:
        logging.disable(logging.NOTSET)
        if os.path.exists(tmp):
            os.unlink(tmp)


def min_cosine(
    enc: OnnxEncoder,
    reference: Callable[[str], np.ndarray],
    texts: Sequence[str] = onnx_model.PROBES,
) -> float:
    """Lowest cosine between `enc`'s vectors and `reference(text)`, each text alone (both
    unit length, so the dot product). Alone only: activations are quantized with one scale
    per run, so in a padded batch a text's int8 vector would depend on its neighbours; the
    copy serves single queries and never batches."""
    want = np.stack([reference(t) for t in texts])
    got = np.stack([enc.encode(t) for t in texts])
    return float((got * want).sum(1).min())


def _refused_before(seen: dict[str, object], source_sha256: str) -> bool:
    """Whether a copy of this very export already failed the check this version applies."""
    refused = (
        seen.get("refused") is True
        and seen.get("source_sha256") == source_sha256
        and seen.get("bound") == MIN_COSINE
    )
    if refused:
        log.warning(
            "queries stay fp32: the int8 copy of this export failed its check before (cosine %s)",
            seen.get("min_cosine"),
        )
    return refused


def _remember(record: Path, manifest: dict[str, Any], cosine: float, **outcome: object) -> None:
    """The check's outcome beside the copy, naming the fp32 export it was made from."""
    entry = {
        "source_sha256": manifest["onnx_sha256"],
        **outcome,
        "min_cosine": cosine,
        "verified_at": datetime.now(UTC).isoformat(),
    }
    try:
        onnx_model._write_atomic(record, json.dumps(entry, indent=1).encode())
    except OSError as exc:  # this start is fine; the next one checks again
        log.warning("could not record the int8 copy's check: %s", exc)


def open_int8(
    model_path: str,
    folder: Path,
    *,
    max_seq_length: int,
    threads: int | None = None,
) -> OnnxEncoder | None:
    """The int8 copy of the verified export, made and checked on first use; None when the
    export itself is not verified (the caller's slow path checks it first) or the copy fails
    its check (queries then stay fp32)."""
    verified = onnx_model.verified_files(model_path, folder, max_seq_length)
    if verified is None:
        return None
    manifest, model, spec = verified
    target, record = _files(folder, str(manifest["key"]), max_seq_length)
    dim = int(manifest["dim"])
    try:
        seen = json.loads(record.read_text())
        if not isinstance(seen, dict):
            raise ValueError("not a record")
        if _refused_before(seen, str(manifest["onnx_sha256"])):
            return None
        data = target.read_bytes()
        if seen.get("source_sha256") == manifest["onnx_sha256"] and seen.get(
            "int8_sha256"
        ) == onnx_model._sha256(data):
            session = onnx_model._session(data, threads)
            tokenizer = onnx_model._tokenizer(spec, max_seq_length)
            return OnnxEncoder(session, tokenizer, dim=dim, precision="int8")
    except (OSError, ValueError):
        pass  # not made yet (or damaged): make it and check it
    tokenizer = onnx_model._tokenizer(spec, max_seq_length)
    fp32 = OnnxEncoder(onnx_model._session(model, threads), tokenizer, dim=dim)
    try:
        _quantize(model, target)
        data = target.read_bytes()
        session = onnx_model._session(data, threads)
        enc = OnnxEncoder(session, tokenizer, dim=dim, precision="int8")
        cosine = min_cosine(enc, fp32.encode)
    except Exception as exc:  # a read-only cache, an exporter the quantizer does not know
        log.warning("queries stay fp32: no int8 copy of the ONNX export (%s)", exc)
        return None
    if cosine < MIN_COSINE:
        log.warning("queries stay fp32: int8 vectors reach only cosine %.4f", cosine)
        target.unlink(missing_ok=True)
        # Recorded, so later starts do not quantize and check again (~2.5 s each) for the
        # same result; a new export or another bound tries again.
        _remember(record, manifest, cosine, refused=True, bound=MIN_COSINE)
        return None
    _remember(record, manifest, cosine, int8_sha256=onnx_model._sha256(data))
    log.info("single queries on an int8 copy of the export (min cosine %.4f)", cosine)
    return enc
