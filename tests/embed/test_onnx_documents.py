"""Documents on ONNX Runtime (`embed.documents_engine`, "auto" on a CPU): the checked export
that serves queries embeds document batches too, padded to the longest text of a batch.
Every batch gives the vectors PyTorch gives, the check that vouches for an export covers the
padded batch path, and with a checked export cached PyTorch is never imported."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsvc.config import EmbedSettings
from memsvc.embed import onnx_model
from memsvc.embed.sentence import EmbedderError, SentenceTransformerEmbedder
from tests.support.fresh import HEAVY_LINE, run_fresh

LONG = " ".join(["We talked about the long trip to the coast and the hotel there."] * 30)
DOCS = ["I adopted a cat named Luna.", LONG, "Short.", "", "  Où est 图书馆? 🙂  "]


@pytest.fixture(scope="module")
def torch_docs(exported: SentenceTransformerEmbedder) -> SentenceTransformerEmbedder:
    """PyTorch documents (`encode`); it exported and checked the cache the others use."""
    return exported


@pytest.fixture(scope="module")
def folder(torch_docs: SentenceTransformerEmbedder) -> Path:
    folder = torch_docs._settings.onnx_dir
    assert folder is not None
    return folder


@pytest.fixture(scope="module")
def onnx_docs(folder: Path, torch_docs: SentenceTransformerEmbedder) -> SentenceTransformerEmbedder:
    emb = SentenceTransformerEmbedder(EmbedSettings(onnx_dir=folder, micro_batch=False))
    assert emb.documents_engine == "onnx" and emb.documents_state == "loaded"
    return emb


words = st.sampled_from(["cat", "Luna", "wedding", "June", "Berlin", "nurse", "é", "🙂", "."])
texts = st.one_of(st.text(max_size=300), st.lists(words, max_size=400).map(" ".join))


@given(batch=st.lists(texts, min_size=1, max_size=12))
@settings(max_examples=40, deadline=None)
def test_any_batch_gives_the_vectors_pytorch_gives(
    torch_docs: SentenceTransformerEmbedder,
    onnx_docs: SentenceTransformerEmbedder,
    batch: list[str],
) -> None:
    got, want = onnx_docs.embed(batch), torch_docs.embed(batch)
    assert got.shape == want.shape == (len(batch), onnx_docs.dim) and got.dtype == np.float32
    assert np.abs(got - want).max() < 1e-5


def test_a_text_gets_the_same_vector_in_any_batch(onnx_docs: SentenceTransformerEmbedder) -> None:
    alone = np.vstack([onnx_docs.embed([t]) for t in DOCS])
    assert np.abs(onnx_docs.embed(DOCS) - alone).max() < 1e-5
    assert np.abs(onnx_docs.embed(DOCS[::-1])[::-1] - alone).max() < 1e-5


def test_the_check_covers_the_padded_batch(
    onnx_docs: SentenceTransformerEmbedder, torch_docs: SentenceTransformerEmbedder
) -> None:
    """An export whose batches ignored the padding would fail the check that a manifest
    records, so it would never be trusted for documents."""
    enc = onnx_docs._exports.documents_session()
    assert enc is not None
    reference = torch_docs._torch_query
    assert onnx_model.max_difference(enc, reference) <= onnx_model.MAX_DIFF

    class Unmasked(onnx_model.OnnxEncoder):
        def encode_batch(self, texts: Any) -> np.ndarray:
            encs = self._tokenizer.encode_batch(list(texts))
            longest = max(len(e.ids) for e in encs)
            ids = np.zeros((len(encs), longest), dtype=np.int64)
            for row, e in enumerate(encs):
                ids[row, : len(e.ids)] = e.ids
            feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            feeds["token_type_ids"] = np.zeros_like(ids)
            return np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)

    broken = Unmasked(enc._session, enc._tokenizer, dim=enc.dim)
    assert onnx_model.max_difference(broken, reference) > onnx_model.MAX_DIFF


def test_with_a_checked_export_pytorch_is_never_imported(
    folder: Path, torch_docs: SentenceTransformerEmbedder
) -> None:
    """In a fresh interpreter: documents and queries embedded, the server-side states as a
    ready process reports them, and no torch, transformers or sentence-transformers.
    (`torch_docs` has exported and checked the export in `folder`.)"""
    script = f"""
import json, sys
from pathlib import Path
from memsvc.config import EmbedSettings
from memsvc.embed.sentence import SentenceTransformerEmbedder
emb = SentenceTransformerEmbedder(EmbedSettings(onnx_dir=Path({str(folder)!r})))
emb.preload()
docs = emb.embed(json.loads(sys.stdin.read())).tolist()
query = emb.embed_query("my cat?").tolist()
emb.close()
{HEAVY_LINE}print(json.dumps({{"engine": emb.documents_engine, "state": emb.documents_state,
                  "heavy": heavy, "docs": docs}}))
"""
    got = run_fresh(script, DOCS)
    assert got["engine"] == "onnx" and got["state"] == "loaded" and got["heavy"] == []
    assert np.asarray(got["docs"]).shape == (len(DOCS), 384)


def test_the_documents_session_opens_on_the_batchers_thread(
    folder: Path, torch_docs: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opened there, its worker threads inherit the batcher's lower priority, so searches
    keep the cores first while adds embed; and it is not the queries' session."""
    opened: list[str] = []
    real = onnx_model.OnnxEncoder.open_verified

    def spy(*args: Any, **kw: Any) -> Any:
        opened.append(threading.current_thread().name)
        return real(*args, **kw)

    emb = SentenceTransformerEmbedder(EmbedSettings(onnx_dir=folder))
    try:
        monkeypatch.setattr(onnx_model.OnnxEncoder, "open_verified", spy)
        emb.embed(DOCS)
        emb.embed(DOCS[:2])
        assert opened == ["memsvc-embed-batcher"]  # once, on the batcher's thread
        assert emb._exports.documents_session() is not emb._onnx
    finally:
        emb.close()


def test_onnx_documents_that_cannot_be_had_fail_clearly(folder: Path) -> None:
    with pytest.raises(EmbedderError, match="documents_engine=onnx"):
        SentenceTransformerEmbedder(
            EmbedSettings(onnx_dir=folder, query_engine="torch", documents_engine="onnx")
        )
    auto = SentenceTransformerEmbedder(
        EmbedSettings(onnx_dir=folder, query_engine="torch", micro_batch=False)
    )
    assert auto.documents_engine == "encode"  # "auto" without the export: PyTorch


def test_no_session_spins(onnx_docs: SentenceTransformerEmbedder) -> None:
    """ONNX Runtime's workers busy-wait by default; in a server that steals the cores from
    requests and the database (spinning even within a run raised search p99 under load), so
    neither the queries' nor the documents' session spins. Both give the same vectors."""
    queries, documents = onnx_docs._onnx, onnx_docs._exports.documents_session()
    assert queries is not None and documents is not None
    for enc in (queries, documents):
        opts = enc._session.get_session_options()
        assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert opts.get_session_config_entry("session.inter_op.allow_spinning") == "0"
    for text in DOCS:
        assert np.array_equal(onnx_docs.embed_query(text), documents.encode(text))


def test_the_export_is_fused_and_the_model_keeps_its_attention(
    torch_docs: SentenceTransformerEmbedder, folder: Path
) -> None:
    """The cached export is the fused graph (`memsvc.embed.onnx_fuse`: one Attention operator per
    layer instead of the MatMul/Softmax chains, ~1 ms less a query), its vectors still
    PyTorch's; exporting with eager attention left the loaded model's own implementation as
    it was (it serves documents on a GPU and when the export is refused)."""
    import onnx

    (graph,) = (onnx.load(p).graph for p in folder.glob("*.onnx") if "int8" not in p.name)
    ops = [node.op_type for node in graph.node]
    model = torch_docs._model
    assert model is not None
    layers = model[0].auto_model.config.num_hidden_layers
    assert ops.count("Attention") == layers and "Softmax" not in ops
    assert model[0].auto_model.config._attn_implementation != "eager"
    for text in DOCS:
        got = torch_docs.embed_query(text)  # the export
        want = model.encode([text], normalize_embeddings=True)[0]
        assert float(np.abs(got - want).max()) <= onnx_model.MAX_DIFF
