"""ONNX Runtime's transformer fusions for the export (`onnx_model._export`), kept only where
the fused graph gives the plain graph's vectors.

Why: for BERT encoders (MiniLM is one) `onnxruntime.transformers` fuses each layer's
attention, skip-layer-norms and bias-GELU into single operators (532 -> 58 nodes). The
vectors stay the same (|diff| <= 2e-7 over 100 questions and padded batches) and one query
takes ~1 ms less on 2 cores (6.5 -> 5.5 ms at p50): fewer operators, fewer wake-ups of the
session's worker thread (bench/README.md, "a fused export"). Document batches are arithmetic
and do not change. Any other architecture, a graph the fusions fail on, or a fused graph that
disagrees with the plain one keeps the plain export; the check against PyTorch
(`onnx_model.max_difference`) then runs on whatever was written.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Largest accepted |fused - plain| of a unit vector's coordinate: fusions only reorder float
# sums (measured <= 2e-7), a wrong fusion is far above it.
MAX_DIFF = 1e-5

Feed = dict[str, np.ndarray]


def fuse(path: str, config: Any, feeds: Sequence[Feed]) -> bool:
    """Replace the graph at `path` by its fused form if `config` is a BERT encoder's and the
    fused graph agrees with the plain one on every feed; returns whether it did."""
    if getattr(config, "model_type", None) != "bert":
        return False
    fused_path = path + ".fused"
    # The optimizer logs advice for every pattern it does not fuse: nothing to act on.
    logging.disable(logging.WARNING)
    try:
        from onnxruntime.transformers import optimizer

        fused = optimizer.optimize_model(
            path,
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=1,
        )
        fused.save_model_to_file(fused_path)
        same = _agree(path, fused_path, feeds)
    except Exception as exc:  # an unknown graph shape: the plain export stays
        log.info("ONNX export left unfused: %s", exc)
        same = False
    finally:
        logging.disable(logging.NOTSET)
    if same:
        os.replace(fused_path, path)
    elif os.path.exists(fused_path):
        os.unlink(fused_path)
    return same


def _agree(plain_path: str, fused_path: str, feeds: Sequence[Feed]) -> bool:
    import onnxruntime as ort

    cpu = ["CPUExecutionProvider"]
    plain = ort.InferenceSession(plain_path, providers=cpu)
    fused = ort.InferenceSession(fused_path, providers=cpu)
    for feed in feeds:
        want, got = plain.run(None, feed)[0], fused.run(None, feed)[0]
        if want.shape != got.shape or not float(np.abs(want - got).max()) <= MAX_DIFF:
            log.info("ONNX export left unfused: the fused graph gives other vectors")
            return False
    return True
