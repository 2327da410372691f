"""A cross-encoder read from a local folder (sentence-transformers' CrossEncoder format,
e.g. a saved `cross-encoder/ms-marco-MiniLM-L-6-v2`). Nothing is downloaded: a folder that is
missing or not a model stops the service at start with a clear error rather than at the
first search."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memsvc.errors import ConfigurationError


class CrossEncoderReranker:
    """`Reranker` over a sentence-transformers CrossEncoder (torch; imported on first use,
    so a service without a reranker never pays for it)."""

    def __init__(
        self,
        folder: Path,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        max_length: int = 256,
    ) -> None:
        if not (folder / "config.json").is_file():
            raise ConfigurationError(
                f"rerank.model {str(folder)!r} is not a model folder (no config.json); give the "
                "path of a saved cross-encoder (sentence-transformers CrossEncoder.save) or leave "
                "MEMSVC_RERANK__MODEL unset"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder never needs the hub
        from sentence_transformers import CrossEncoder

        try:
            self._model: Any = CrossEncoder(
                str(folder),
                device=device,
                max_length=max_length,
                local_files_only=True,
            )
        except Exception as exc:  # a broken folder: say which, at start
            raise ConfigurationError(
                f"rerank.model {str(folder)!r} could not be loaded as a cross-encoder: {exc}"
            ) from exc
        self._batch_size = batch_size
        self.name = f"cross-encoder:{folder.name}"

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        raw = self._model.predict(
            [(query, t) for t in texts],
            batch_size=self._batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        # Models with several labels give one row per pair: the last label is "relevant".
        values = raw[:, -1] if getattr(raw, "ndim", 1) == 2 else raw
        out = [float(v) for v in values]
        return [v if math.isfinite(v) else -math.inf for v in out]
