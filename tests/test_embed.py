"""The sentence-transformers embedder: length-bucketed batches give the same vectors."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from memsvc.embed import CachedEmbedder
from memsvc.embed.sentence import length_buckets


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
