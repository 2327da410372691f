"""The direct document path (`embed.documents_engine`, memsvc.embed.direct): the vectors of
`SentenceTransformer.encode`, for any texts and batch split; chosen only for transformer +
mean pooling models, and only where asked (on a CPU "auto" keeps encode)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsvc.config import EmbedSettings
from memsvc.embed.direct import DirectEncoder, max_difference
from memsvc.embed.sentence import SentenceTransformerEmbedder
from tests.text._data import longmemeval_turns


@pytest.fixture(scope="module")
def direct_embedder() -> Iterator[SentenceTransformerEmbedder]:
    emb = SentenceTransformerEmbedder(
        EmbedSettings(documents_engine="direct", query_engine="torch", micro_batch=False)
    )
    yield emb
    emb.close()


def _encode(emb: SentenceTransformerEmbedder, texts: list[str]) -> np.ndarray:
    return emb._encode_batch(texts)


def test_direct_is_chosen_when_asked_and_matches_encode_on_real_turns(
    direct_embedder: SentenceTransformerEmbedder,
) -> None:
    assert direct_embedder._direct is not None
    texts = [t["content"] for t in longmemeval_turns()[:150]]
    got = direct_embedder.encode_now(texts)
    want = _encode(direct_embedder, texts)
    assert got.shape == want.shape == (150, 384)
    assert float(np.abs(got - want).max()) < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(
    texts=st.lists(
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400
        ).filter(lambda t: t.strip() != ""),
        min_size=1,
        max_size=12,
    ),
    batch=st.integers(1, 8),
)
def test_any_texts_any_batch_split(
    direct_embedder: SentenceTransformerEmbedder, texts: list[str], batch: int
) -> None:
    direct = direct_embedder._direct
    assert direct is not None
    got = direct.encode(texts, batch_size=batch)
    want = _encode(direct_embedder, texts)
    assert float(np.abs(got - want).max()) < 1e-5


def test_auto_keeps_encode_on_a_cpu() -> None:
    emb = SentenceTransformerEmbedder(
        EmbedSettings(query_engine="torch", micro_batch=False, document_load="startup")
    )
    try:
        assert emb._direct is None
    finally:
        emb.close()


def test_other_pooling_is_not_taken_for_mean(
    direct_embedder: SentenceTransformerEmbedder,
) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    model = direct_embedder._model
    cls_model = SentenceTransformer(modules=[model[0], Pooling(384, pooling_mode="cls")])
    assert DirectEncoder.for_model(cls_model, 256) is None
    assert DirectEncoder.for_model(model, 256) is not None


def test_a_mismatch_is_measured(direct_embedder: SentenceTransformerEmbedder) -> None:
    direct = direct_embedder._direct
    assert direct is not None
    assert max_difference(direct, lambda t: _encode(direct_embedder, t)) < 1e-5
    # Against another model's vectors (here: the rows shuffled) the check fails loudly.
    assert max_difference(direct, lambda t: _encode(direct_embedder, t)[::-1]) > 0.05
