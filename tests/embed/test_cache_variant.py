"""The disk cache never hands one setting's vectors to another: `embed.max_seq_length` changes a
long text's vector without changing the model, so it is part of the cache key (`variant_of`),
and caches written at the default length before the key had a variant stay valid."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsvc.config import EmbedSettings
from memsvc.embed import CachedEmbedder, Vectors, variant_of


class Truncating:
    """A stand-in for a model that reads only the first `length` characters of a text, as
    the real one reads only the first `max_seq_length` tokens."""

    model_name = "truncating"
    dim = 8

    def __init__(self, length: int) -> None:
        self.length = length
        self.calls = 0

    def vector(self, text: str) -> Vectors:
        seed = int.from_bytes(hashlib.sha256(text[: self.length].encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.vector(t) for t in texts])

    def embed_query(self, text: str) -> Vectors:
        return self.vector(text)


def test_variant_of_the_default_is_empty() -> None:
    assert variant_of(EmbedSettings()) == ""
    assert variant_of(EmbedSettings(max_seq_length=128)) == "max_seq_length=128"
    short, longer = EmbedSettings(max_seq_length=64), EmbedSettings(max_seq_length=128)
    assert variant_of(short) != variant_of(longer)


texts_ = st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=12, unique=True)


@settings(max_examples=40, deadline=None)
@given(texts=texts_, short=st.integers(1, 10))
def test_two_lengths_share_a_folder_without_mixing(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str], short: int
) -> None:
    folder = tmp_path_factory.mktemp("cache")
    full, cut = Truncating(1000), Truncating(short)
    default = CachedEmbedder(full, cache_dir=folder, variant=variant_of(EmbedSettings()))
    other = CachedEmbedder(
        cut, cache_dir=folder, variant=variant_of(EmbedSettings(max_seq_length=short))
    )
    try:
        first = default.embed(texts)
        mine = other.embed(texts)  # every text again: the default's rows are not this one's
        assert cut.calls == len(texts)
        np.testing.assert_array_equal(mine, np.stack([cut.vector(t) for t in texts]))
        # Each setting reads its own rows back, and only its own.
        np.testing.assert_array_equal(default.embed(texts), first)
        np.testing.assert_array_equal(other.embed(texts), mine)
        assert full.calls == len(texts) and cut.calls == len(texts)
    finally:
        default.close()
        other.close()


def test_a_cache_written_before_variants_is_still_read(tmp_path: Path) -> None:
    """Rows keyed as sha256(model + text), the format every existing cache holds, are hits
    for the default length."""
    inner = Truncating(1000)
    sentinel = np.full(inner.dim, 0.5, dtype=np.float32)
    CachedEmbedder(inner, cache_dir=tmp_path).close()  # creates the table
    old_key = hashlib.sha256(f"{inner.model_name}\x00hello".encode()).hexdigest()
    with sqlite3.connect(tmp_path / "embeddings.sqlite") as db:
        db.execute("INSERT INTO emb (key, vec) VALUES (?, ?)", (old_key, sentinel.tobytes()))
    cached = CachedEmbedder(inner, cache_dir=tmp_path, variant=variant_of(EmbedSettings()))
    try:
        np.testing.assert_array_equal(cached.embed(["hello"])[0], sentinel)
        assert inner.calls == 0
    finally:
        cached.close()
