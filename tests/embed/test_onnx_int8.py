"""Queries through the int8 copy of the export (`embed.query_precision = "int8"`): close to
fp32 but never used for documents, made once and trusted by its record, remade when damaged
or when its source changes, refused when it fails its check, and accepted by the check that
runs once PyTorch has loaded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from memsvc.api import create_app
from memsvc.config import EmbedSettings
from memsvc.embed import CachedEmbedder, onnx_int8
from memsvc.embed.sentence import SentenceTransformerEmbedder
from tests.conftest import make_settings

QUERIES = [
    "What did I say about my sister's wedding?",
    "Which basketball team does Tim support?",
    "How many fitness classes do I attend in a typical week?",
    "  Où est la bibliothèque? 🙂  ",
]


@pytest.fixture(scope="module")
def checked(exported: SentenceTransformerEmbedder) -> Path:
    """A cache whose fp32 export is exported and checked (tests/embed/conftest)."""
    folder = exported._settings.onnx_dir
    assert folder is not None
    return folder


@pytest.fixture
def cache(checked: Path, tmp_path: Path) -> Path:
    """The checked fp32 export alone (no int8 copy yet), free to damage."""
    ignore = shutil.ignore_patterns("*int8*")
    return Path(shutil.copytree(checked, tmp_path / "onnx", ignore=ignore))


def start(folder: Path, precision: str = "int8", **kw: Any) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(
        EmbedSettings(onnx_dir=folder, micro_batch=False, query_precision=precision, **kw),
        document_load="lazy",
    )


def counting(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    made: list[Path] = []
    real = onnx_int8._quantize

    def spy(model: bytes, target: Path) -> None:
        made.append(target)
        real(model, target)

    monkeypatch.setattr(onnx_int8, "_quantize", spy)
    return made


@pytest.fixture(scope="module")
def pair(checked: Path) -> tuple[SentenceTransformerEmbedder, SentenceTransformerEmbedder]:
    return start(checked, "int8"), start(checked, "fp32")


def test_int8_queries_are_close_to_fp32_and_documents_stay_fp32(
    pair: tuple[SentenceTransformerEmbedder, SentenceTransformerEmbedder],
) -> None:
    int8, fp32 = pair
    assert int8.query_engine == "onnx-int8" and fp32.query_engine == "onnx"
    for q in QUERIES:
        a, b = int8.embed_query(q), fp32.embed_query(q)
        assert a.dtype == np.float32 and abs(float(np.linalg.norm(a)) - 1) < 1e-4
        assert float(a @ b) >= onnx_int8.MIN_COSINE
        assert not np.array_equal(a, b)  # really the copy
    assert np.array_equal(int8.embed(QUERIES), fp32.embed(QUERIES))


@given(text=st.text(min_size=1, max_size=200))
@settings(max_examples=30, deadline=None)
def test_any_query_keeps_its_direction(
    pair: tuple[SentenceTransformerEmbedder, SentenceTransformerEmbedder], text: str
) -> None:
    int8, fp32 = pair
    assert float(int8.embed_query(text) @ fp32.embed_query(text)) > 0.9


def test_the_copy_is_made_once_and_then_trusted(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = counting(monkeypatch)
    first = start(cache)
    second = start(cache)
    assert len(made) == 1
    assert first.query_engine == second.query_engine == "onnx-int8"
    assert np.array_equal(first.embed_query(QUERIES[0]), second.embed_query(QUERIES[0]))
    assert start(cache, "fp32").query_engine == "onnx"  # the fp32 record is untouched


def test_a_damaged_copy_or_a_new_source_is_made_again(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = start(cache).embed_query(QUERIES[1])
    made = counting(monkeypatch)
    (copy,) = cache.glob("*.int8.onnx")
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    assert start(cache).query_engine == "onnx-int8" and len(made) == 1
    (record,) = cache.glob("*-int8.json")
    entry = json.loads(record.read_text())
    record.write_text(json.dumps({**entry, "source_sha256": "0" * 64}))
    again = start(cache)
    assert again.query_engine == "onnx-int8" and len(made) == 2
    assert np.array_equal(again.embed_query(QUERIES[1]), want)  # quantizing is deterministic


def test_a_copy_that_fails_its_check_is_refused(
    cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    made = counting(monkeypatch)
    monkeypatch.setattr(onnx_int8, "MIN_COSINE", 1.01)
    emb = start(cache)
    assert emb.query_engine == "onnx" and "queries stay fp32" in caplog.text
    assert not list(cache.glob("*.int8.onnx")) and len(made) == 1
    (record,) = cache.glob("*-int8.json")
    assert json.loads(record.read_text())["refused"] is True
    fp32 = start(cache, "fp32")
    assert np.array_equal(emb.embed_query(QUERIES[0]), fp32.embed_query(QUERIES[0]))
    # The refusal is remembered: the next start neither quantizes nor checks again ...
    assert start(cache).query_engine == "onnx" and len(made) == 1
    # ... until the bound changes (another version), or the export does.
    monkeypatch.setattr(onnx_int8, "MIN_COSINE", 0.97)
    assert start(cache).query_engine == "onnx-int8" and len(made) == 2
    record.write_text("[1, 2]")  # a record that is not one: made and checked again
    assert start(cache).query_engine == "onnx-int8" and len(made) == 3


def test_pytorch_loaded_later_accepts_the_copy(cache: Path) -> None:
    """The background check against PyTorch (once it loads) holds the copy to its cosine
    bound, not to fp32's 1e-4: the queries stay on int8."""
    emb = SentenceTransformerEmbedder(
        EmbedSettings(
            onnx_dir=cache, micro_batch=False, query_precision="int8", documents_engine="encode"
        ),
        document_load="startup",
    )
    assert emb.documents_loaded and emb.query_engine == "onnx-int8"


def test_readiness_says_which_engine_serves_queries(checked: Path, tmp_path: Path) -> None:
    """An operator can tell int8 queries from a copy that fell back to fp32."""
    for precision, engine in (("int8", "onnx-int8"), ("fp32", "onnx")):
        inner = start(checked, precision, documents_engine="encode")
        app = create_app(make_settings(tmp_path / precision), embedder=CachedEmbedder(inner))
        with TestClient(app) as client:
            ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["queries"] == engine
