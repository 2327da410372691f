"""Embedding engines behind the `Embedder` protocol (knows nothing of tables or HTTP)."""

from __future__ import annotations

from memsvc.config import EmbedSettings
from memsvc.embed.base import Embedder, Vectors
from memsvc.embed.cache import CachedEmbedder


def variant_of(settings: EmbedSettings) -> str:
    """What besides the model decides a document's vector: the truncation length. The
    default length's variant is empty, so caches written before the variant existed (all of
    them at the default) stay valid."""
    default = EmbedSettings.model_fields["max_seq_length"].default
    return "" if settings.max_seq_length == default else f"max_seq_length={settings.max_seq_length}"


def load_embedder(settings: EmbedSettings) -> CachedEmbedder:
    """The configured model wrapped in the query LRU and, if `cache_dir` is set, the disk cache."""
    from memsvc.embed.sentence import SentenceTransformerEmbedder

    inner = SentenceTransformerEmbedder(settings)
    return CachedEmbedder(
        inner,
        query_cache_size=settings.query_cache_size,
        cache_dir=settings.cache_dir,
        variant=variant_of(settings),
    )


__all__ = ["CachedEmbedder", "Embedder", "Vectors", "load_embedder", "variant_of"]
