"""The sentence-transformers embedder: length-bucketed batches give the same vectors; single
queries through ONNX Runtime give the same vectors as through PyTorch."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from memsvc.config import EmbedSettings
from memsvc.embed import CachedEmbedder, onnx_model
from memsvc.embed.sentence import EmbedderError, SentenceTransformerEmbedder, length_buckets


@given(st.lists(st.integers(min_value=0, max_value=2000), max_size=200), st.integers(1, 64))
def test_length_buckets_cover_every_text_once_in_bounded_batches(
    lengths: list[int], batch_size: int
) -> None:
    batches = length_buckets(lengths, batch_size)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    for b in batches:
        assert 1 <= len(b) <= batch_size
        lens = [lengths[i] for i in b]
        assert max(lens) <= 2 * min(lens) + 64


def test_mixed_lengths_embed_as_they_would_alone(embedder: CachedEmbedder) -> None:
    texts = [
        "I adopted a cat named Luna.",
        " ".join(["We talked about the long trip to the coast and the hotel there."] * 20),
        "Short.",
        "My sister's wedding is in June, and I am giving a speech.",
    ]
    together = embedder.inner.embed(texts)
    alone = np.vstack([embedder.inner.embed([t]) for t in texts])
    assert together.shape == (4, embedder.dim) and together.dtype == np.float32
    assert np.allclose(together, alone, atol=1e-4)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)


# --- single queries through ONNX Runtime (memsvc.embed.onnx_model) ---------------------------

QUERIES = [
    "x",
    "What did I cook for dinner last week?",
    "  Où est la bibliothèque? 图书馆在哪里？ UPPER case 🙂  ",
    " ".join(["We talked about the long trip to the coast and the hotel there."] * 40),
]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


def _load(
    folder: Path, engine: Literal["auto", "torch", "onnx"] = "onnx"
) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(EmbedSettings(onnx_dir=folder, query_engine=engine))


def test_onnx_queries_equal_torch_queries_and_documents(
    embedder: CachedEmbedder, onnx_dir: Path
) -> None:
    enc = _load(onnx_dir)
    assert enc.query_engine == "onnx" and len(list(onnx_dir.glob("*.onnx"))) == 1
    torch_path = _load(onnx_dir, "torch")
    assert torch_path.query_engine == "torch"
    for q in QUERIES:
        got = enc.embed_query(q)
        assert got.shape == (enc.dim,) and got.dtype == np.float32
        assert np.abs(got - torch_path.embed_query(q)).max() < 1e-5
        assert np.abs(got - embedder.inner.embed([q])[0]).max() < 1e-4  # the document path


def test_the_export_is_made_once_and_reused(
    onnx_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load(onnx_dir)  # exports if the module's first test did not run
    files = {f: f.stat().st_mtime_ns for f in onnx_dir.glob("*.onnx")}

    def no_export(*_: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_model, "_export", no_export)
    assert _load(onnx_dir).query_engine == "onnx"
    assert {f: f.stat().st_mtime_ns for f in onnx_dir.glob("*.onnx")} == files


def test_a_damaged_export_falls_back_to_torch_then_is_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = _load(tmp_path)
    (target,) = tmp_path.glob("*.onnx")
    (manifest,) = tmp_path.glob(f"*.{onnx_model.CHECK_ID}-*.json")
    manifest.unlink()  # never checked (mismatches: test_coldstart.py)
    target.write_bytes(b"not an onnx model")
    with caplog.at_level(logging.WARNING, logger="memsvc.embed.onnx_exports"):
        fallback = _load(tmp_path, "auto")
    assert fallback.query_engine == "torch" and "stay on PyTorch" in caplog.text
    assert fallback.documents_engine == "encode"  # documents ("auto") fall back with them
    assert np.abs(fallback.embed_query(QUERIES[1]) - first.embed_query(QUERIES[1])).max() < 1e-5
    assert not target.exists()  # removed, so the next start exports a good one
    assert _load(tmp_path).query_engine == "onnx" and target.exists()


def test_onnx_required_but_missing_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_model, "available", lambda: False)
    assert _load(tmp_path, "auto").query_engine == "torch"
    with pytest.raises(EmbedderError, match="onnxruntime"):
        _load(tmp_path, "onnx")


def test_concurrent_onnx_queries_give_each_their_own_vector(onnx_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    enc = _load(onnx_dir)
    texts = [f"question number {i}: what did I do on day {i}?" for i in range(64)]
    alone = [enc.embed_query(t) for t in texts]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(enc.embed_query, texts))
    for a, b in zip(alone, together, strict=True):
        assert np.abs(a - b).max() < 1e-6
