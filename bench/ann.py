"""ANN benchmark: FAISS flat / IVF-Flat / HNSW vs memsvc SPANN on real MiniLM embeddings.

    python -m bench.ann --n 100000 --out bench/results/ann-100k.json

Writes (and merges into) the JSON given by --out, one entry per method, and a PNG beside it.
See bench/README.md, "ANN index benchmark", for what is measured and how."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench import ann_methods as am
from bench.ann_plot import plot
from bench.corpus import dataset


def machine() -> dict[str, Any]:
    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "faiss": faiss.__version__,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    info["summary"] = f"{info['cpus']} CPUs" + (f", {info['gpu']}" if "gpu" in info else "")
    return info


def parse_kv(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, _, raw = item.partition("=")
        val: Any = raw
        for conv in (int, float):
            try:
                val = conv(raw)
                break
            except ValueError:
                continue
        out[key] = val
    return out


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=100_000, help="base vectors")
    ap.add_argument("--held", type=int, default=2000, help="held-out sentence queries")
    ap.add_argument("--single", type=int, default=300, help="queries timed one at a time")
    ap.add_argument("--methods", default="flat,ivf,hnsw,spann")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=Path(".cache/bench"))
    ap.add_argument(
        "--index-dir", type=Path, default=None, help="SPANN folder (default: under --cache)"
    )
    ap.add_argument("--model", default=None, help="sentence-transformers folder (default: bundled)")
    ap.add_argument("--embed-device", default="cpu")
    ap.add_argument("--fp16", action="store_true", help="embed in fp16 (GPU)")
    ap.add_argument("--embed-batch", type=int, default=128)
    ap.add_argument("--workers", type=int, default=1, help="processes for sentence extraction")
    ap.add_argument("--extra-sources", action="store_true", help="also C/C++ header comments, HTML")
    ap.add_argument(
        "--text-file", type=Path, default=None, help="more sentences, one per line (.xz ok)"
    )
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="SPANN batch threads")
    ap.add_argument("--nlist", type=int, default=0, help="IVF lists (default 4*sqrt(n))")
    ap.add_argument("--nprobes", type=ints, default=ints("1,2,4,8,16,32,64,128"))
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=100)
    ap.add_argument("--efs", type=ints, default=ints("16,32,64,128,256"))
    ap.add_argument("--probes", type=ints, default=ints("4,8,16,32,48,64,96,128"))
    ap.add_argument("--spann", nargs="*", default=[], help="SpannParams overrides key=value")
    ap.add_argument("--profile-probe", type=int, default=0, help="cProfile SPANN batch here")
    ap.add_argument(
        "--vectors", type=Path, default=None, help="folder written by --save-vectors: use it"
    )
    ap.add_argument(
        "--save-vectors", type=Path, default=None, help="write base + queries there (fp16 parts)"
    )
    ap.add_argument("--save-n", type=int, default=80_000, help="base vectors --save-vectors keeps")
    args = ap.parse_args(argv)

    t0 = time.time()
    if args.vectors:
        base, queries, info = load_vectors(args.vectors, args.n)
    else:
        base, queries, info = embedded(args)
    print(f"data: {info} in {time.time() - t0:.0f}s", flush=True)
    if args.save_vectors:
        save_vectors(args.save_vectors, base[: args.save_n], queries, info)
    run(args, base, queries, info, t0)


def embedded(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    embed_kw: dict[str, Any] = {
        "device": args.embed_device,
        "fp16": args.fp16,
        "batch_size": args.embed_batch,
    }
    if args.model:
        embed_kw["model_path"] = args.model
    base, held, lme, info = dataset(
        args.n,
        args.held,
        args.cache,
        workers=args.workers,
        extra=args.extra_sources,
        text_file=args.text_file,
        **embed_kw,
    )
    queries = np.ascontiguousarray(np.vstack([held, lme]), dtype=np.float32)
    return base, queries, info


# Vectors travel back from the GPU machine as fp16 parts of at most 20,000 rows (15.4 MB: the
# device tool returns files of at most 16 MiB); loaded here as float32, re-normalised.
_PART = 20_000


def save_vectors(folder: Path, base: np.ndarray, queries: np.ndarray, info: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for j, s in enumerate(range(0, base.shape[0], _PART)):
        np.save(folder / f"base-{j:02d}.npy", base[s : s + _PART].astype(np.float16))
    np.save(folder / "queries.npy", queries.astype(np.float16))
    (folder / "info.json").write_text(json.dumps(info))


def load_vectors(folder: Path, n: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    parts = [np.load(f) for f in sorted(folder.glob("base-*.npy"))]
    base = np.vstack(parts)[:n].astype(np.float32)
    queries = np.load(folder / "queries.npy").astype(np.float32)
    for x in (base, queries):
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    info = {**json.loads((folder / "info.json").read_text()), "vectors": f"{folder} (fp16)"}
    return np.ascontiguousarray(base), np.ascontiguousarray(queries), info


def run(
    args: argparse.Namespace, base: np.ndarray, queries: np.ndarray, info: dict[str, Any], t0: float
) -> None:
    gt = faiss.IndexFlatIP(base.shape[1])
    gt.add(base)
    truth = gt.search(queries, am.K)[1]
    del gt

    out: dict[str, Any] = {"methods": []}
    if args.out.exists():
        out = json.loads(args.out.read_text())
    out["machine"] = machine()
    out["dataset"] = {
        **info,
        "base": int(base.shape[0]),
        "dim": int(base.shape[1]),
        "queries": int(queries.shape[0]),
        "k": am.K,
        "single_timed": args.single,
        "truth": "exact inner product (FAISS IndexFlatIP)",
    }

    def record(res: am.Result) -> None:
        out["methods"] = [m for m in out["methods"] if m["name"] != res.name] + [res.as_dict()]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(json.dumps(out, indent=1))
        tmp.replace(args.out)
        best = [p for p in res.points if p.recall >= 0.95]
        first = best[0] if best else (res.points[-1] if res.points else None)
        print(
            f"{res.name}: build {res.build_s:.1f}s ram {res.ram_bytes / 2**20:.0f}MiB "
            f"disk {res.disk_bytes / 2**20:.0f}MiB; first point >=0.95: {first}",
            flush=True,
        )

    n = base.shape[0]
    spann_dir = args.index_dir or args.cache / f"spann-{n}"
    for method in args.methods.split(","):
        if method == "flat":
            record(am.run_flat(base, queries, truth, min(args.single, 100)))
        elif method == "ivf":
            nlist = args.nlist or int(4 * np.sqrt(n))
            record(am.run_ivf(base, queries, truth, args.single, nlist, args.nprobes))
        elif method == "hnsw":
            record(
                am.run_hnsw(
                    base, queries, truth, args.single, args.hnsw_m, args.ef_construction, args.efs
                )
            )
        elif method in ("spann", "spann-gpu"):
            device = "cuda" if method == "spann-gpu" else "cpu"
            record(
                am.run_spann(
                    base,
                    queries,
                    truth,
                    args.single,
                    spann_dir,
                    parse_kv(args.spann),
                    args.probes,
                    args.threads,
                    device,
                    args.profile_probe,
                    progress=record,
                )
            )
        elif method.startswith("gpu-exact"):
            record(
                am.run_gpu_exact(
                    base, queries, truth, "fp16" if method.endswith("fp16") else "fp32"
                )
            )
        else:
            raise SystemExit(f"unknown method {method!r}")
    plot(out, args.out.with_suffix(".png"))
    print(f"done in {time.time() - t0:.0f}s -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
