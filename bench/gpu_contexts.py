"""How fast one GPU embeds documents when N processes each drive it with batches of B texts
(issue 16 item 4): is a shared embedding service worth building?

With one ingest thread a process, 16 ingest processes on one H100 spend half of every add
waiting for their own document embeddings (bench/README.md, "where 16 processes wait"): each
process has its own model copy and CUDA context and sends one add's texts (a session's keys
and parts, tens of texts) at a time. This measures the embedder alone in that shape:
N spawned processes, each memsvc's document embedder (`encode_now`, the path ingest uses),
each encoding its slice of the dev suites' turn texts in batches of B for `--seconds`, one
common start; the rate is every process's texts over the span. (1, large B) is what one
shared service batching across processes would see.

    python -m bench.gpu_contexts --configs 1x256,1x32,16x32,16x256 --seconds 15 --out OUT.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.dev_turns import DEFAULT_LOCOMO, haystacks
from bench.gpu_ingest import inner, make_settings, settings_values
from bench.measure import run_children


def _child(
    values: dict[str, Any],
    texts: list[str],
    batch: int,
    seconds: float,
    barrier: Any,
    results: Any,
) -> None:
    try:
        import torch

        from memsvc import Memory

        mem = Memory(make_settings(values))
        emb = inner(mem.runtime.embedder)
        sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
        emb.encode_now(texts[:batch])  # warm: CUDA context, kernels
        sync()
        barrier.wait()
        t0, n, i = time.time(), 0, 0
        while time.time() - t0 < seconds:
            chunk = texts[i : i + batch] or texts[:batch]
            i = i + batch if i + batch < len(texts) else 0
            emb.encode_now(chunk)
            n += len(chunk)
        sync()
        results.put({"texts": n, "start": t0, "end": time.time()})
        mem.close()
    except BaseException as exc:  # the parent must not wait forever on a failed child
        results.put({"error": repr(exc)})
        raise


def measure(
    processes: int, batch: int, seconds: float, texts: list[str], device: str
) -> dict[str, Any]:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    data = Path(tempfile.mkdtemp(prefix="memsvc-gpu-contexts-"))
    step = max(1, len(texts) // processes)
    specs = [
        (
            settings_values(data / f"p{k}", device, batch, {}),
            texts[k * step : (k + 1) * step] or texts,
            batch,
            seconds,
            barrier,
            results,
        )
        for k in range(processes)
    ]
    parts = run_children(ctx, _child, specs, results)
    span = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    n = sum(p["texts"] for p in parts)
    return {
        "processes": processes,
        "batch": batch,
        "texts": n,
        "span_s": round(span, 2),
        "texts_per_s": round(n / span, 1),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", default="1x256,1x32,16x32,16x256", help="NxB, comma-separated")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--locomo", type=Path, default=DEFAULT_LOCOMO)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    texts = [t.content for _, r in haystacks(args.locomo) for s in r.sessions for t in s.turns]
    rows = []
    for cfg in args.configs.split(","):
        n, b = (int(x) for x in cfg.split("x"))
        row = measure(n, b, args.seconds, texts, args.device)
        print(json.dumps(row), flush=True)
        rows.append(row)
    out = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "rows": rows,
    }
    args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
