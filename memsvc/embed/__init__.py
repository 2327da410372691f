"""Embedding engines behind the `Embedder` protocol (knows nothing of tables or HTTP)."""

from __future__ import annotations

from memsvc.config import EmbedSettings
from memsvc.embed.base import Embedder, Vectors
from memsvc.embed.cache import CachedEmbedder, variant_of


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
