"""What several embedder test modules share: one export made and checked by the slow path."""

from __future__ import annotations

import pytest

from memsvc.config import EmbedSettings
from memsvc.embed.sentence import SentenceTransformerEmbedder


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> SentenceTransformerEmbedder:
    """Everything loaded at once (the slow path: export, check against PyTorch, manifest) in
    a cache folder of its own, documents through PyTorch (`encode`). Modules that damage the
    cache copy it first; files other modules add beside it (the int8 copy) leave it valid."""
    folder = tmp_path_factory.mktemp("onnx")
    emb = SentenceTransformerEmbedder(
        EmbedSettings(onnx_dir=folder, micro_batch=False, documents_engine="encode")
    )
    assert emb.query_engine == "onnx" and emb.documents_loaded
    assert len(list(folder.glob("*.json"))) == 2  # the manifest and the tokenizer
    return emb
