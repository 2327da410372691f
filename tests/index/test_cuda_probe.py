"""`cuda_available` on a machine without a GPU answers without importing torch: the import
took seconds, paid by the first batch search of a SPANN partition (an add's candidates)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from memsvc.index.spann.gpu import gpu_device_nodes

pytestmark = pytest.mark.skipif(gpu_device_nodes(), reason="this machine shows a GPU")

PROBE = """
import sys
from memsvc.index.spann.gpu import cuda_available
assert cuda_available() is False
assert "torch" not in sys.modules, "torch was imported to find no GPU"
"""

BATCH = """
import sys
import numpy as np
from pathlib import Path
from memsvc.index.spann import SpannIndex, SpannParams
rng = np.random.default_rng(0)
vecs = rng.standard_normal((600, 16)).astype(np.float32)
vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
index = SpannIndex.build(np.arange(600), vecs, Path(sys.argv[1]) / "ix", SpannParams(device="auto"))
scores, ids = index.search(vecs[:64], 5)  # a batch past gpu_min_batch: the GPU is asked
assert (ids[:, 0] == np.arange(64)).mean() > 0.9
assert "torch" not in sys.modules, "a batch search imported torch on a machine with no GPU"
index.close()
"""


def test_no_gpu_answered_without_torch() -> None:
    subprocess.run([sys.executable, "-c", PROBE], check=True)


def test_batch_search_on_cpu_does_not_import_torch(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-c", BATCH, str(tmp_path)], check=True)
