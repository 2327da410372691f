"""The export's fusions (`memsvc.embed.onnx_fuse`) are kept only where the fused graph gives
the plain graph's vectors: a fused graph that disagrees, or a model that is not a BERT
encoder, leaves the plain export, which is still checked against PyTorch and serves."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import pytest

from memsvc.config import EmbedSettings
from memsvc.embed import onnx_fuse, onnx_model
from memsvc.embed.sentence import SentenceTransformerEmbedder

TEXTS = ["hi", "Which basketball team does Tim support?", "  Où est 图书馆? 🙂  "]


def ops(folder: Path) -> list[str]:
    (path,) = (p for p in folder.glob("*.onnx") if "int8" not in p.name)
    return [node.op_type for node in onnx.load(path).graph.node]


def test_a_fused_graph_that_disagrees_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_fuse, "MAX_DIFF", -1.0)  # no graph agrees with anything
    folder = tmp_path / "onnx"
    emb = SentenceTransformerEmbedder(
        EmbedSettings(onnx_dir=folder, micro_batch=False, documents_engine="encode")
    )
    assert emb.query_engine == "onnx"  # the plain export passed the check and serves
    names = ops(folder)
    assert "Attention" not in names and "Softmax" in names
    assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".json", ".onnx"]
    model = emb._model
    assert model is not None
    for text in TEXTS:
        want = model.encode([text], normalize_embeddings=True)[0]
        assert float(np.abs(emb.embed_query(text) - want).max()) <= onnx_model.MAX_DIFF


def test_only_bert_encoders_are_fused(
    exported: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    folder = exported._settings.onnx_dir
    assert folder is not None
    (source,) = (p for p in folder.glob("*.onnx") if "int8" not in p.name)
    copy = tmp_path / "model.onnx"
    shutil.copy(source, copy)
    before = copy.read_bytes()
    assert not onnx_fuse.fuse(str(copy), SimpleNamespace(model_type="roberta"), [])
    assert copy.read_bytes() == before and not list(tmp_path.glob("*.fused"))
