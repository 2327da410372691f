"""The ANN methods compared by bench/ann.py, each measured the same way: build time, resident
memory, bytes on disk, and per sweep point recall@10, single-query p50/p99 and batch QPS."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
K = 10


@dataclass
class Point:
    param: dict[str, Any]
    recall: float
    p50_ms: float
    p99_ms: float
    qps: float
    # SPANN only, measured on the same index in the same run: batch QPS of the per-query loop
    # (`search.search_loop` on a thread pool, the batch path before `batch.search_batch`) and
    # of the copying batch (`batch.search_batch_copy`, the batch path before `inplace`).
    qps_loop: float | None = None
    same_ids_as_loop: bool | None = None
    qps_copy: float | None = None
    same_ids_as_copy: bool | None = None


@dataclass
class Result:
    name: str
    build_s: float
    ram_bytes: int  # what the structure keeps in RAM (analytic, or the index's own estimate)
    rss_anon_delta: int  # measured growth of anonymous resident memory while building
    disk_bytes: int
    params: dict[str, Any]
    points: list[Point] = field(default_factory=list)
    notes: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rss() -> dict[str, int]:
    """Anonymous and file-backed resident memory of this process (bytes, Linux)."""
    out = {"anon": 0, "file": 0}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                out["anon"] = int(line.split()[1]) * 1024
            elif line.startswith("RssFile:"):
                out["file"] = int(line.split()[1]) * 1024
    return out


def recall(found: I64, truth: I64) -> float:
    hits = [
        len(set(f[f >= 0].tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True)
    ]
    return float(np.mean(hits)) / truth.shape[1]


def measure(
    search: Callable[[F32], I64],
    queries: F32,
    truth: I64,
    n_single: int,
    batch: Callable[[F32], I64] | None = None,
) -> tuple[float, float, float, float]:
    """(recall, p50 ms, p99 ms, qps): recall from one batch call over all queries; latency
    from one call per query on the first `n_single` (after 20 warm-up calls)."""
    run_batch = batch or search
    for q in queries[:20]:
        search(q[None, :])
    t0 = time.perf_counter()
    found = run_batch(queries)
    qps = queries.shape[0] / (time.perf_counter() - t0)
    lat = []
    for q in queries[:n_single]:
        t = time.perf_counter()
        search(q[None, :])
        lat.append(time.perf_counter() - t)
    ms = np.array(lat) * 1e3
    return recall(found, truth), float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), qps


def _faiss_disk(index: Any) -> int:
    with tempfile.NamedTemporaryFile() as fh:
        faiss.write_index(index, fh.name)
        return os.path.getsize(fh.name)


def _build(make: Callable[[], Any]) -> tuple[Any, float, int]:
    gc.collect()
    before = rss()["anon"]
    t0 = time.perf_counter()
    index = make()
    return index, time.perf_counter() - t0, rss()["anon"] - before


def run_flat(base: F32, queries: F32, truth: I64, n_single: int) -> Result:
    def make() -> Any:
        index = faiss.IndexFlatIP(base.shape[1])
        index.add(base)
        return index

    index, secs, delta = _build(make)
    res = Result("faiss-flat", secs, base.nbytes, delta, base.nbytes, {})
    r, p50, p99, qps = measure(lambda q: index.search(q, K)[1], queries, truth, n_single)
    res.points.append(Point({}, r, p50, p99, qps))
    return res


def run_ivf(
    base: F32, queries: F32, truth: I64, n_single: int, nlist: int, nprobes: Sequence[int]
) -> Result:
    d = base.shape[0], base.shape[1]

    def make() -> Any:
        quant = faiss.IndexFlatIP(d[1])
        index = faiss.IndexIVFFlat(quant, d[1], nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.min_points_per_centroid = 1  # silence FAISS's sample-size warning
        n_train = min(d[0], 64 * nlist)
        sample = base[np.random.default_rng(0).choice(d[0], n_train, replace=False)]
        index.train(sample)
        index.add(base)
        return index

    index, secs, delta = _build(make)
    ram = base.nbytes + base.shape[0] * 8 + nlist * base.shape[1] * 4
    res = Result("faiss-ivf-flat", secs, ram, delta, _faiss_disk(index), {"nlist": nlist})
    for nprobe in nprobes:
        index.nprobe = nprobe
        r, p50, p99, qps = measure(lambda q: index.search(q, K)[1], queries, truth, n_single)
        res.points.append(Point({"nprobe": nprobe}, r, p50, p99, qps))
    return res


def run_hnsw(
    base: F32,
    queries: F32,
    truth: I64,
    n_single: int,
    m: int,
    ef_construction: int,
    efs: Sequence[int],
) -> Result:
    def make() -> Any:
        index = faiss.IndexHNSWFlat(base.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.add(base)
        return index

    index, secs, delta = _build(make)
    links = int(index.hnsw.neighbors.size()) * 4 + base.shape[0] * 16
    res = Result(
        "faiss-hnsw-flat",
        secs,
        base.nbytes + links,
        delta,
        _faiss_disk(index),
        {"M": m, "efConstruction": ef_construction},
    )
    for ef in efs:
        index.hnsw.efSearch = ef
        r, p50, p99, qps = measure(lambda q: index.search(q, K)[1], queries, truth, n_single)
        res.points.append(Point({"efSearch": ef}, r, p50, p99, qps))
    return res


def run_spann(
    base: F32,
    queries: F32,
    truth: I64,
    n_single: int,
    folder: Path,
    params: dict[str, Any],
    probes: Sequence[int],
    threads: int,
    device: str = "cpu",
    profile_probe: int = 0,
    progress: Callable[[Result], None] | None = None,
) -> Result:
    """`progress`, if given, gets the result so far after each sweep point (so a run cut off
    by a time limit keeps the points it measured)."""
    from memsvc.index.spann import SpannIndex, SpannParams
    from memsvc.index.spann.batch import search_batch_copy
    from memsvc.index.spann.search import search_loop

    shutil.rmtree(folder, ignore_errors=True)
    p = SpannParams.from_dict({**params, "device": device})
    ids = np.arange(base.shape[0], dtype=np.int64)
    index, secs, delta = _build(lambda: SpannIndex.build(ids, base, folder, p))
    st = index.stats()
    name = "memsvc-spann" + ("-gpu" if device == "cuda" else "")
    res = Result(
        name,
        secs,
        st["ram_bytes"],
        delta,
        st["bytes_on_disk"],
        {**p.model_dump(), "threads": threads},
        notes=f"lists={st['lists']} avg_list_len={st['avg_list_len']:.1f} entries={st['entries']}",
    )
    try:
        for mp in probes:

            def one(q: F32, mp: int = mp) -> I64:
                return index.search(q, K, max_probe=mp, device=device)[1]

            def many(q: F32, mp: int = mp) -> I64:
                return index.search(q, K, max_probe=mp, device=device, threads=threads)[1]

            def old(q: F32, mp: int = mp, fn: Any = search_loop, th: int = threads) -> I64:
                core = index._core  # the earlier batch paths, for the before/after ratios
                with core.rw.read():
                    return fn(core, q, K, mp, p.probe_ratio, th)[1]  # type: ignore[no-any-return]

            r, p50, p99, qps = measure(one, queries, truth, n_single, batch=many)
            point = Point({"max_probe": mp}, r, p50, p99, qps)
            if device == "cpu":
                new = many(queries)
                for fn, tag in ((search_loop, "loop"), (search_batch_copy, "copy")):
                    t0 = time.perf_counter()
                    found = old(queries, fn=fn)
                    setattr(point, f"qps_{tag}", queries.shape[0] / (time.perf_counter() - t0))
                    setattr(point, f"same_ids_as_{tag}", bool(np.array_equal(found, new)))
            res.points.append(point)
            if mp == profile_probe and device == "cpu":
                # One thread, so cProfile (which follows only the calling thread) sees it all.
                for fn, tag in ((search_loop, "loop"), (search_batch_copy, "copy")):
                    text = profiled(lambda q, fn=fn: old(q, fn=fn, th=1), queries)
                    res.notes += f" | profile max_probe={mp}, 1 thread: {tag}\n{text}"

                def many1(q: F32, mp: int = mp) -> I64:
                    return index.search(q, K, max_probe=mp, device=device, threads=1)[1]

                res.notes += f" | in place\n{profiled(many1, queries)}"
            if progress is not None:
                progress(res)
        res.notes += f" rss_file_after={rss()['file']}"
    finally:
        index.close()
    return res


def profiled(fn: Callable[[F32], I64], queries: F32, top: int = 12) -> str:
    """cProfile of one batch call: the `top` entries by own time, as pstats prints them."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    fn(queries)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    text = buf.getvalue()
    print(text, flush=True)
    return text


def run_gpu_exact(base: F32, queries: F32, truth: I64, dtype: str) -> Result:
    from bench.gpu_exact import GpuExactIndex

    index, secs, _ = _build(lambda: GpuExactIndex(base, dtype=dtype))
    index.search(queries[:64], K)
    t0 = time.perf_counter()
    found = index.search(queries, K)[1]
    qps = queries.shape[0] / (time.perf_counter() - t0)
    res = Result(
        f"torch-exact-{dtype}", secs, 0, 0, 0, {"dtype": dtype}, notes="base held in GPU memory"
    )
    res.points.append(Point({}, recall(found, truth), float("nan"), float("nan"), qps))
    return res
