"""Exact inner-product top-k on one GPU through torch: the brute-force baseline `bench/ann.py`
compares the ANN methods against (`run_gpu_exact` in bench/ann_methods.py). Not used by the
service, so it lives here rather than in `memsvc.index`."""

from __future__ import annotations

import numpy as np

from memsvc.index.base import FloatArray, IdArray, check_vectors
from memsvc.index.spann.gpu import SCORE_BYTES, check_fits, torch_module


class GpuExactIndex:
    """Exact top-k by inner product over a fixed base on one CUDA device."""

    def __init__(
        self,
        vectors: FloatArray,
        ids: IdArray | None = None,
        *,
        dtype: str = "fp32",
        device: str = "cuda",
    ) -> None:
        torch = torch_module()
        base = np.ascontiguousarray(vectors, dtype=np.float32)
        if base.ndim != 2:
            raise ValueError(f"expected (n, d) vectors, got {base.shape}")
        tdt = torch.float16 if dtype == "fp16" else torch.float32
        check_fits(base.shape[0] * base.shape[1] * (2 if dtype == "fp16" else 4), device)
        self.dim = base.shape[1]
        self.device = device
        self._base = torch.from_numpy(base).to(device=device, dtype=tdt)
        self._ids = None if ids is None else np.asarray(ids, dtype=np.int64).reshape(-1)

    def search(self, queries: FloatArray, k: int) -> tuple[FloatArray, IdArray]:
        torch = torch_module()
        q = check_vectors(queries, self.dim)
        n = int(self._base.shape[0])
        kk = min(k, n)
        out_s = np.full((q.shape[0], k), -np.inf, dtype=np.float32)
        out_i = np.full((q.shape[0], k), -1, dtype=np.int64)
        if kk == 0:
            return out_s, out_i
        batch = max(1, min(8192, SCORE_BYTES // max(1, 4 * n)))
        for s in range(0, q.shape[0], batch):
            qt = torch.from_numpy(q[s : s + batch]).to(self.device, dtype=self._base.dtype)
            scores = (qt @ self._base.T).float()
            v, i = torch.topk(scores, kk, dim=1)
            out_s[s : s + batch, :kk] = v.cpu().numpy()
            out_i[s : s + batch, :kk] = i.cpu().numpy()
        if self._ids is not None:
            ok = out_i >= 0
            out_i[ok] = self._ids[out_i[ok]]
        return out_s, out_i
