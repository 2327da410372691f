from __future__ import annotations

import numpy as np
import pytest


def clustered(
    n: int, d: int = 32, centers: int = 60, noise: float = 0.35, seed: int = 0
) -> np.ndarray:
    """Unit vectors around a few centres: the shape of sentence embeddings, in miniature."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, d)).astype(np.float32)
    x = c[rng.integers(0, centers, n)] + noise * rng.standard_normal((n, d)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(
        np.mean(
            [len(set(f[f >= 0]) & set(t[t >= 0])) / k for f, t in zip(found, truth, strict=True)]
        )
    )


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, vectors, queries): 3,000 clustered 32-d vectors and 100 nearby queries."""
    x = clustered(3100)
    return np.arange(3000, dtype=np.int64) * 7 + 1, x[:3000], x[3000:]
