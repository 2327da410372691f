"""SPANN's CUDA search path through torch (imported lazily; nothing here loads on a CPU-only
import).

`SpannGpuMirror`: a SPANN index's heads and posting lists copied to the GPU; the head search
and the posting scans of a whole query batch run there. It is a snapshot: `SpannIndex`
rebuilds it when the index has changed since (it compares `version`). (The exact GPU baseline
the ANN benchmark compares against lives in bench/gpu_exact.py.)

Scores are computed in float32 from the same fp16/fp32 codes the CPU path reads, so results
match the CPU path within float tolerance (given the same head index; the CPU may use HNSW
where this is exact)."""

from __future__ import annotations

import functools
import glob
import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from memsvc.index.base import FloatArray, IdArray, check_vectors

if TYPE_CHECKING:
    from memsvc.index.spann.core import Core

# Fraction of the free GPU memory the base may take (the rest: scores, top-k, workspace).
_FIT = 0.6
SCORE_BYTES = 1 << 30


def gpu_device_nodes() -> bool:
    """Whether the kernel shows any NVIDIA GPU to this process (Linux device nodes, or WSL's
    GPU bridge); elsewhere assume there may be one."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(glob.glob("/dev/nvidia[0-9]*")) or os.path.exists("/dev/dxg")


@functools.cache
def cuda_available() -> bool:
    # Importing torch only to learn that there is no GPU took 3.7 s, paid by the first batch
    # search of a SPANN partition on a CPU server (an add's candidates: bench/README.md,
    # 2026-12-07 third); with no device node there is no CUDA device to find.
    if "torch" not in sys.modules and not gpu_device_nodes():
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def torch_module() -> Any:
    import torch

    return torch


def check_fits(nbytes: int, device: str) -> None:
    if not device.startswith("cuda"):
        return  # the torch code also runs on "cpu", which tests use to check the logic
    torch = torch_module()
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    if nbytes > _FIT * free:
        raise MemoryError(f"{nbytes / 2**30:.1f} GiB does not fit in {free / 2**30:.1f} GiB free")


class SpannGpuMirror:
    """Heads, posting entries (CSR by list) and tombstones of a SPANN `Core` on the GPU."""

    version: int  # the Core.version this copy was made from
    device: str
    dim: int
    replicas: int
    _batch: int
    _pad: int
    _dead_pad: int
    _slot_ext: IdArray
    # torch tensors: entry codes, entry slots, heads, head norms, dead heads, list starts and
    # lengths (CSR), live slots.
    _vecs: Any
    _slots: Any
    _heads: Any
    _hnorm: Any
    _hdead: Any
    _start: Any
    _len: Any
    _alive: Any

    def __init__(self) -> None:
        self.version = -1

    @classmethod
    def from_core(cls, core: Core, device: str = "cuda") -> SpannGpuMirror:
        torch = torch_module()
        self = cls()
        self.version = core.version
        self.device = device
        self.dim = core.dim
        self.replicas = core.params.replicas
        n = len(core.heads)
        heads = core.heads.vectors().copy()
        alive = core.heads.alive.copy()
        counts = core.store.count[:n].astype(np.int64) * alive
        lists = np.flatnonzero(counts > 0)
        slots, codes, got = core.store.read(lists)
        starts = np.zeros(n + 1, dtype=np.int64)
        starts[lists + 1] = got
        starts = np.cumsum(starts)
        rows = codes.shape[0]
        check_fits(rows * core.row_bytes + heads.nbytes + rows * 8, device)
        typ = np.float16 if core.params.dtype == "fp16" else np.float32
        vecs = codes.view(typ).reshape(rows, core.dim)
        # One zero row at the end: the target of padding in the gather below.
        self._vecs = torch.from_numpy(np.concatenate([vecs, np.zeros((1, core.dim), typ)])).to(
            device
        )
        # Queries per batch so the padded (batch, width, d) float32 gather stays near 1 GiB.
        # The widest a query can get: its max_probe lists all among the longest.
        widest = int(np.sort(counts)[-core.params.max_probe :].sum()) if n else 1
        self._batch = int(max(1, min(1024, SCORE_BYTES // max(1, widest * core.dim * 6))))
        self._slots = torch.from_numpy(np.r_[slots.astype(np.int64), 0]).to(device)
        self._pad = rows
        self._heads = torch.from_numpy(heads).to(device)
        self._hnorm = (self._heads * self._heads).sum(1)
        self._hdead = torch.from_numpy(~alive).to(device)
        self._start = torch.from_numpy(starts[:-1]).to(device)
        self._len = torch.from_numpy(np.diff(starts)).to(device)
        alive_slots = np.r_[core.slot_alive[: core.n_slots], False]
        self._alive = torch.from_numpy(alive_slots).to(device)
        self._dead_pad = core.n_slots  # index of the False sentinel above
        self._slot_ext = core.slot_ext[: core.n_slots].copy()
        return self

    def search(
        self,
        queries: FloatArray,
        k: int,
        max_probe: int,
        probe_ratio: float,
        batch: int | None = None,
    ) -> tuple[FloatArray, IdArray]:
        q = check_vectors(queries, self.dim)
        out_s = np.full((q.shape[0], k), -np.inf, dtype=np.float32)
        out_i = np.full((q.shape[0], k), -1, dtype=np.int64)
        if self._heads.shape[0] == 0:
            return out_s, out_i
        batch = batch or self._batch
        for s in range(0, q.shape[0], batch):
            sc, sl = self._search_batch(q[s : s + batch], k, max_probe, probe_ratio)
            ok = sl >= 0
            out_s[s : s + batch] = sc
            out_i[s : s + batch][ok] = self._slot_ext[sl[ok]]
        return out_s, out_i

    def _search_batch(
        self, q: FloatArray, k: int, max_probe: int, ratio: float
    ) -> tuple[FloatArray, IdArray]:
        torch = torch_module()
        dev = self.device
        qt = torch.from_numpy(q).to(dev)
        b = qt.shape[0]
        d2 = (qt * qt).sum(1, keepdim=True) + self._hnorm[None, :] - 2.0 * (qt @ self._heads.T)
        d2 = d2.clamp_min(0).masked_fill(self._hdead[None, :], float("inf"))
        p = min(max_probe, d2.shape[1])
        hd, hc = torch.topk(d2, p, dim=1, largest=False)
        ref = hd[:, 0]
        if p > 1:
            ref = torch.maximum(ref, 0.5 * torch.where(torch.isfinite(hd[:, 1]), hd[:, 1], ref))
        keep = torch.isfinite(hd) & (hd <= (ratio * ratio) * ref[:, None])
        lens = self._len[hc] * keep
        flat_len = lens.reshape(-1)
        total = int(flat_len.sum())
        out_s = np.full((b, k), -np.inf, dtype=np.float32)
        out_i = np.full((b, k), -1, dtype=np.int64)
        if total == 0:
            return out_s, out_i
        seg = torch.repeat_interleave(torch.arange(flat_len.numel(), device=dev), flat_len)
        seg_off = torch.cumsum(flat_len, 0) - flat_len
        within = torch.arange(total, device=dev) - seg_off[seg]
        rows = self._start[hc].reshape(-1)[seg] + within
        q_off = (torch.cumsum(lens, 1) - lens).reshape(-1)
        pos = q_off[seg] + within
        width = int(lens.sum(1).max())
        idx = torch.full((b, width), self._pad, dtype=torch.int64, device=dev)
        idx[seg // p, pos] = rows
        vecs = self._vecs[idx].float()  # (b, width, d)
        scores = torch.bmm(vecs, qt[:, :, None]).squeeze(2)
        slots = self._slots[idx]
        slots = torch.where(idx == self._pad, torch.full_like(slots, self._dead_pad), slots)
        scores = scores.masked_fill(~self._alive[slots], float("-inf"))
        w = min(width, k * self.replicas)
        top_s, top_p = torch.topk(scores, w, dim=1)
        top_sl = torch.gather(slots, 1, top_p)
        # Replicas share a slot and a score: sort by slot, blank repeats, take the best k.
        sl_sorted, order = torch.sort(top_sl, dim=1, stable=True)
        dup = torch.zeros_like(sl_sorted, dtype=torch.bool)
        dup[:, 1:] = sl_sorted[:, 1:] == sl_sorted[:, :-1]
        dup_orig = torch.zeros_like(dup).scatter(1, order, dup)
        top_s = top_s.masked_fill(dup_orig, float("-inf"))
        kk = min(k, w)
        fs, fp = torch.topk(top_s, kk, dim=1)
        fsl = torch.gather(top_sl, 1, fp)
        fs_np = fs.cpu().numpy()
        fsl_np = fsl.cpu().numpy()
        valid = np.isfinite(fs_np)
        out_s[:, :kk] = np.where(valid, fs_np, -np.inf)
        out_i[:, :kk] = np.where(valid, fsl_np, -1)
        return out_s, out_i
