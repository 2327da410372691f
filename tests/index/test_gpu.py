"""GPU paths. The torch code is first checked on torch's CPU device (runs everywhere); the
`gpu`-marked tests run it on CUDA and are skipped cleanly without a device."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memsvc.index.spann import SpannIndex, SpannParams
from memsvc.index.spann.gpu import SpannGpuMirror, cuda_available

Data = tuple[np.ndarray, np.ndarray, np.ndarray]
cuda = pytest.mark.skipif(not cuda_available(), reason="no CUDA device")


def _compare(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], tol: float
) -> None:
    """Same ids (up to swaps of near-ties) and the same scores within `tol`."""
    (sa, ia), (sb, ib) = a, b
    assert (ia == ib).mean() >= 0.99
    np.testing.assert_allclose(sa, sb, atol=tol)


def test_torch_mirror_logic_matches_cpu_path_on_torch_cpu(tmp_path: Path, data: Data) -> None:
    ids, x, q = data
    with SpannIndex.build(ids, x, tmp_path / "ix", SpannParams(device="cpu")) as ix:
        ix.remove(ids[::9])
        mirror = SpannGpuMirror.from_core(ix._core, device="cpu")
        for mp, ratio in ((64, 1.5), (4, 10.0), (64, 1.0)):
            _compare(
                mirror.search(q, 10, mp, ratio, batch=7),
                ix.search(q, 10, max_probe=mp, probe_ratio=ratio),
                1e-5,
            )


@pytest.mark.gpu
@cuda
def test_cuda_spann_matches_cpu_path_and_follows_updates(tmp_path: Path, data: Data) -> None:
    ids, x, q = data
    # Exact (flat) heads on both sides, so both probe the same lists.
    with SpannIndex.build(
        ids, x, tmp_path / "ix", SpannParams(head_index="flat", gpu_min_batch=16)
    ) as ix:
        _compare(ix.search(q, 10, device="cuda"), ix.search(q, 10, device="cpu"), 1e-4)
        assert ix._gpu is not None
        ix.add(np.array([10**6]), q[:1])
        ix.remove(ids[:200])
        gpu = ix.search(q, 10)  # 100 queries >= gpu_min_batch: dispatched to CUDA
        assert gpu[1][0, 0] == 10**6 and not np.isin(gpu[1], ids[:200]).any()
        _compare(gpu, ix.search(q, 10, device="cpu"), 1e-4)
