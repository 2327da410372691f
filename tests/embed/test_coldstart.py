"""Cold start (issue 16 item 5): with a checked ONNX export cached, the embedder answers
queries without PyTorch, the document model loads later and gives exactly the vectors it gave
before, readiness means a search can be served, and a cache that does not match its manifest
(damaged, other settings) is checked again or rebuilt, never trusted.

Documents here go through PyTorch (`documents_engine="encode"`): what is checked is its
deferred load. Documents on the export itself, which need no PyTorch model at all, are
tests/embed/test_onnx_documents.py."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from memsvc.api import create_app
from memsvc.config import EmbedSettings
from memsvc.embed import CachedEmbedder, onnx_model
from memsvc.embed.sentence import DocumentLoad, SentenceTransformerEmbedder
from tests.conftest import make_settings
from tests.support.fresh import HEAVY_LINE, run_fresh

QUERIES = [
    "x",
    "What did I cook for dinner last week?",
    "  Où est la bibliothèque? 图书馆在哪里？ UPPER case 🙂  ",
    " ".join(["We talked about the long trip to the coast and the hotel there."] * 40),
]
DOCS = [
    "I adopted a cat named Luna.",
    " ".join(["We talked about the long trip to the coast and the hotel there."] * 20),
    "Short.",
    "My sister's wedding is in June, and I am giving a speech.",
]


@pytest.fixture(scope="module")
def eager(exported: SentenceTransformerEmbedder) -> SentenceTransformerEmbedder:
    """Everything loaded at once (the slow path: export, check, manifest; tests/embed/conftest)."""
    return exported


@pytest.fixture
def cache(eager: SentenceTransformerEmbedder, tmp_path: Path) -> Path:
    """A private copy of the checked cache, free to damage."""
    src = eager._settings.onnx_dir
    assert src is not None
    # Without the int8 copy another module may have made beside it: these tests count files.
    ignore = shutil.ignore_patterns("*int8*")
    return Path(shutil.copytree(src, tmp_path / "onnx", ignore=ignore))


def quick(folder: Path, load: DocumentLoad = "lazy", **kw: Any) -> SentenceTransformerEmbedder:
    kw.setdefault("documents_engine", "encode")
    return SentenceTransformerEmbedder(EmbedSettings(onnx_dir=folder, **kw), document_load=load)


def files(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def test_a_checked_export_serves_queries_without_torch(cache: Path) -> None:
    """In a fresh interpreter: torch, transformers and sentence-transformers stay unimported
    until the first document call, and the query vectors are those of PyTorch."""
    script = f"""
import json, sys
from pathlib import Path
from memsvc.config import EmbedSettings
from memsvc.embed.sentence import SentenceTransformerEmbedder
settings = EmbedSettings(onnx_dir=Path({str(cache)!r}))
emb = SentenceTransformerEmbedder(settings, document_load="lazy")
{HEAVY_LINE}queries = [emb.embed_query(q).tolist() for q in json.loads(sys.stdin.read())]
print(json.dumps({{"engine": emb.query_engine, "heavy": heavy, "queries": queries}}))
"""
    got = run_fresh(script, QUERIES)
    assert got["engine"] == "onnx" and got["heavy"] == []
    torch_path = quick(cache, "startup", query_engine="torch")
    for q, vec in zip(QUERIES, got["queries"], strict=True):
        assert np.abs(np.asarray(vec, dtype=np.float32) - torch_path.embed_query(q)).max() < 1e-5


def test_the_lazy_document_model_gives_exactly_the_same_vectors(
    eager: SentenceTransformerEmbedder, cache: Path
) -> None:
    lazy = quick(cache, micro_batch=False)
    assert lazy.dim == eager.dim and lazy.model_name == eager.model_name
    assert not lazy.documents_loaded
    for q in QUERIES:  # queries need no document model
        assert np.array_equal(lazy.embed_query(q), eager.embed_query(q))
    assert not lazy.documents_loaded
    assert np.array_equal(lazy.embed(DOCS), eager.embed(DOCS))
    assert lazy.documents_loaded and lazy.query_engine == "onnx"  # the re-check passed


def test_documents_sent_during_the_background_load_wait_for_it(
    eager: SentenceTransformerEmbedder, cache: Path
) -> None:
    bg = quick(cache, "background")  # micro-batching on, as in the server
    try:
        bg.preload()
        results: dict[int, np.ndarray] = {}

        def add(i: int) -> None:
            results[i] = bg.embed(DOCS[i:] + DOCS[:i])

        threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert bg.documents_loaded
        for i, got in results.items():
            assert np.allclose(got, eager.embed(DOCS[i:] + DOCS[:i]), atol=1e-6)
        assert len(results) == 4
    finally:
        bg.close()


@pytest.mark.parametrize("damaged", [".onnx", ".plain.tokenizer.json"])
def test_a_cache_file_that_does_not_match_its_manifest_is_rebuilt(
    cache: Path, damaged: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before = files(cache)
    (target,) = cache.glob(f"*{damaged}")
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # still parses: only the hash can tell
    target.write_bytes(bytes(data))
    exports: list[Path] = []
    export = onnx_model._export

    def counted(transformer: Any, tokenizer: Any, target: Path) -> None:
        exports.append(target)
        export(transformer, tokenizer, target)

    monkeypatch.setattr(onnx_model, "_export", counted)
    emb = quick(cache, "lazy")
    assert "does not match its manifest" in caplog.text
    assert emb.documents_loaded  # the slow path loaded PyTorch to check the new export
    assert len(exports) == 1 and emb.query_engine == "onnx"
    after = files(cache)
    assert set(after) == set(before)
    by_suffix = {k.split(".", 1)[1]: v for k, v in after.items()}
    (manifest_name,) = (k for k in after if k.endswith(f".{onnx_model.CHECK_ID}-256.json"))
    manifest = json.loads(after[manifest_name])
    assert manifest["onnx_sha256"] == onnx_model._sha256(by_suffix["onnx"])
    assert manifest["tokenizer_sha256"] == onnx_model._sha256(by_suffix[onnx_model.TOKENIZER])
    assert not quick(cache, "lazy").documents_loaded  # the next start trusts it again
    torch_path = quick(cache, "startup", query_engine="torch")
    for q in QUERIES:
        assert np.abs(emb.embed_query(q) - torch_path.embed_query(q)).max() < 1e-5


def test_a_manifest_for_other_settings_is_checked_again_without_exporting(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_export(*_: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_model, "_export", no_export)
    other = quick(cache, "lazy", max_seq_length=128)
    assert other.documents_loaded  # not vouched for at 128 tokens: checked against PyTorch
    again = quick(cache, "lazy", max_seq_length=128)
    assert not again.documents_loaded and again.query_engine == "onnx"
    long = QUERIES[-1]  # truncated at 128 tokens on both paths
    assert np.array_equal(again.embed_query(long), other.embed_query(long))
    default = quick(cache, "lazy")
    # Each check keeps its own manifest: the 128-token one did not overwrite the default's,
    # so a start at the default is still trusted without PyTorch.
    assert not default.documents_loaded and default.query_engine == "onnx"
    assert np.abs(again.embed_query(long) - default.embed_query(long)).max() > 1e-3


def test_an_older_versions_files_beside_ours_are_left_alone(cache: Path) -> None:
    """Versions before the per-check manifests wrote `<key>.json` and `<key>.tokenizer.json`
    (with sentence-transformers' truncation in it) and check them against each other: ours
    neither reads nor rewrites them, so both kinds of start stay fast on one shared cache."""
    (export,) = cache.glob("*.onnx")
    key = export.name.removesuffix(".onnx")
    old_tokenizer, old_manifest = cache / f"{key}.tokenizer.json", cache / f"{key}.json"
    old_tokenizer.write_bytes(b'{"truncation": {"max_length": 256}}')
    old_manifest.write_text('{"check": "an older one"}')
    emb = quick(cache, "lazy")
    assert not emb.documents_loaded and emb.query_engine == "onnx"  # trusted: no PyTorch
    assert old_tokenizer.read_bytes() == b'{"truncation": {"max_length": 256}}'
    assert old_manifest.read_text() == '{"check": "an older one"}' and export.exists()


@given(text=st.text(max_size=400))
@settings(max_examples=60, deadline=None)
def test_the_tokenizers_library_alone_tokenizes_like_sentence_transformers(
    eager: SentenceTransformerEmbedder, text: str
) -> None:
    model = eager._document_model()
    spec = onnx_model._settings_free(model[0].tokenizer.backend_tokenizer.to_str())
    ours = onnx_model._tokenizer(spec, model.max_seq_length).encode(text)
    theirs = model.preprocess([text])
    assert ours.ids == theirs["input_ids"][0].tolist()
    assert ours.type_ids == theirs["token_type_ids"][0].tolist()
    assert ours.attention_mask == theirs["attention_mask"][0].tolist()


def test_ready_means_a_search_can_be_served_before_the_document_model(
    cache: Path, tmp_path: Path
) -> None:
    lazy = quick(cache, "lazy")
    settings_ = make_settings(tmp_path / "data")
    app = create_app(settings_, embedder=CachedEmbedder(lazy))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        hits = client.post("/v1/memories/search", json={"query": "my cat?", "user_id": "u"})
        assert hits.status_code == 200 and not lazy.documents_loaded
        added = client.post(
            "/v1/memories",
            json={"text": "I adopted a cat named Luna.", "user_id": "u", "infer": False},
        )
        assert added.status_code == 200 and lazy.documents_loaded
        hits = client.post("/v1/memories/search", json={"query": "my cat?", "user_id": "u"})
        assert "Luna" in hits.json()["results"][0]["memory"]
