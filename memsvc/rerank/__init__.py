"""Second-stage rerankers (engine layer: knows nothing of tables or HTTP). `Reranker` is the
protocol recall calls; `load_reranker` builds the configured one, or None when none is."""

from __future__ import annotations

from memsvc.config import RerankSettings
from memsvc.rerank.base import Reranker
from memsvc.rerank.cross_encoder import CrossEncoderReranker

__all__ = ["CrossEncoderReranker", "Reranker", "load_reranker"]


def load_reranker(settings: RerankSettings, *, device: str = "cpu") -> Reranker | None:
    """The reranker `settings` name: a local cross-encoder folder, or None (the default:
    recall needs no second model)."""
    if settings.model is None:
        return None
    return CrossEncoderReranker(
        settings.model.expanduser(),
        device=settings.device or device,
        batch_size=settings.batch_size,
        max_length=settings.max_length,
    )
