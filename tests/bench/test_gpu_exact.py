"""The ANN benchmark's exact GPU baseline (bench/gpu_exact.py). The torch code is first checked
on torch's CPU device (runs everywhere); the `gpu`-marked test runs it on CUDA and is skipped
cleanly without a device."""

from __future__ import annotations

import numpy as np
import pytest

from bench.gpu_exact import GpuExactIndex
from memsvc.index.flat import FlatIndex
from memsvc.index.spann.gpu import cuda_available
from tests.index.conftest import clustered, recall_at
from tests.index.test_gpu import Data, _compare

cuda = pytest.mark.skipif(not cuda_available(), reason="no CUDA device")


@pytest.fixture
def data() -> Data:
    """(ids, vectors, queries): the same 3,000 clustered 32-d vectors as tests/index's."""
    x = clustered(3100)
    return np.arange(3000, dtype=np.int64) * 7 + 1, x[:3000], x[3000:]


def test_torch_exact_matches_flat_on_torch_cpu(data: Data) -> None:
    ids, x, q = data
    f = FlatIndex(32)
    f.add(ids, x)
    _compare(GpuExactIndex(x, ids, device="cpu").search(q, 10), f.search(q, 10), 1e-5)


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("dtype", ["fp32", "fp16"])
def test_cuda_exact_matches_flat(dtype: str) -> None:
    x = clustered(50_000, d=64, seed=21)
    q = clustered(500, d=64, seed=22)
    ids = np.arange(50_000, dtype=np.int64) * 2
    f = FlatIndex(64)
    f.add(ids, x)
    want = f.search(q, 10)
    got = GpuExactIndex(x, ids, dtype=dtype).search(q, 10)
    if dtype == "fp32":
        _compare(got, want, 1e-4)
    else:
        assert recall_at(got[1], want[1]) >= 0.97
        np.testing.assert_allclose(got[0], want[0], atol=5e-3)
