"""Congruence with exact search on real all-MiniLM-L6-v2 embeddings of real chat sentences:
the same calls through `SpannIndex` (default settings) and `FlatIndex`, recall@10 compared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memsvc.index.flat import FlatIndex
from memsvc.index.spann import SpannIndex, SpannParams
from tests.index.conftest import recall_at
from tests.index.realdata import DATA, real_embeddings

pytestmark = pytest.mark.skipif(
    not (DATA / "longmemeval").is_dir(), reason=f"no chat data under {DATA}"
)


def exact(ids: np.ndarray, vecs: np.ndarray, q: np.ndarray, k: int = 10) -> np.ndarray:
    f = FlatIndex(vecs.shape[1])
    f.add(ids, vecs)
    return f.search(q, k)[1]


def test_default_settings_reach_recall_on_real_embeddings(tmp_path: Path) -> None:
    x = real_embeddings(1500)
    base, q = x[:1300], x[1300:]
    ids = np.arange(1300, dtype=np.int64) + 100
    truth = exact(ids, base, q)
    with SpannIndex.build(ids, base, tmp_path / "ix") as ix:
        assert recall_at(ix.search(q, 10)[1], truth) >= 0.95
        # Pruning is real: a handful of lists gives clearly lower recall than the default.
        few = recall_at(ix.search(q, 10, max_probe=2)[1], truth)
        assert few < 0.9


def test_online_growth_stays_congruent(tmp_path: Path) -> None:
    x = real_embeddings(1500)
    base, q = x[:1300], x[1300:]
    ids = np.arange(1300, dtype=np.int64)
    with SpannIndex.build(
        ids[:300], base[:300], tmp_path / "ix", SpannParams(posting_size=32)
    ) as ix:
        for s in range(300, 1300, 100):  # grows 4x through splits
            ix.add(ids[s : s + 100], base[s : s + 100])
        ix.remove(ids[::5])
        keep = np.ones(1300, dtype=bool)
        keep[::5] = False
        truth = exact(ids[keep], base[keep], q)
        assert ix.stats()["dead_heads"] > 0
        assert recall_at(ix.search(q, 10)[1], truth) >= 0.95
        ix.compact()
        assert recall_at(ix.search(q, 10)[1], truth) >= 0.95


@pytest.mark.slow
def test_default_settings_reach_recall_at_12k(tmp_path: Path) -> None:
    x = real_embeddings(12_000)
    base, q = x[:11_000], x[11_000:]
    ids = np.arange(11_000, dtype=np.int64)
    truth = exact(ids, base, q)
    with SpannIndex.build(ids, base, tmp_path / "ix") as ix:
        assert recall_at(ix.search(q, 10)[1], truth) >= 0.95
        ix.remove(ids[::3])
        ix.compact()
        keep = np.ones(11_000, dtype=bool)
        keep[::3] = False
        assert recall_at(ix.search(q, 10)[1], exact(ids[keep], base[keep], q)) >= 0.95
