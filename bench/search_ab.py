"""In-process A/B of the query encoder on one store: every query is searched with ONNX Runtime
queries and with PyTorch queries, interleaved (alternating which goes first), so both see the
same machine load; reinforcement is off so both rank the same state.

    python -m bench.search_ab --n 10000 --out bench/results/search-ab-10k.json

Data and queries as bench/api.py (LongMemEval sentences, questions and held-out turns)."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import api
from memsvc.config import EmbedSettings, Settings
from memsvc.embed import load_embedder
from memsvc.local import Memory


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="messages ingested")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    turns, questions = api.load(sorted(api.DATA.glob("*.json")))
    msgs, queries, info = api.build(turns, questions, args.n, args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        mem = Memory(settings=Settings(data_dir=Path(tmp)))
        t0 = time.perf_counter()
        for i in range(0, len(msgs), 50):
            mem.add(messages=msgs[i : i + 50], user_id=api.USER, wait=True)
        ingest_s = time.perf_counter() - t0
        torch_emb = load_embedder(EmbedSettings(query_engine="torch"))
        engines = {"onnx": mem.runtime.embedder, "torch": torch_emb}
        if mem.runtime.embedder.inner.query_engine != "onnx":  # type: ignore[attr-defined]
            raise SystemExit("the default embedder did not get the ONNX query path")
        views = {"onnx": mem, "torch": mem.search_view(mem.settings, embedder=torch_emb)}
        lat: dict[str, list[float]] = {k: [] for k in ("onnx", "torch")}
        enc: dict[str, list[float]] = {k: [] for k in ("onnx", "torch")}
        same = 0
        warm, timed = queries[: api.WARMUP], queries[api.WARMUP :]
        for q in warm:
            for view in views.values():
                view.search(q, user_id=api.USER, top_k=api.TOP_K, reinforce=False)
        for i, q in enumerate(timed):
            ids = {}
            for k in ("onnx", "torch") if i % 2 == 0 else ("torch", "onnx"):
                t = time.perf_counter()
                res = views[k].search(q, user_id=api.USER, top_k=api.TOP_K, reinforce=False)
                lat[k].append((time.perf_counter() - t) * 1e3)
                ids[k] = [h.id for h in res.results]
                t = time.perf_counter()
                engines[k].inner.embed_query(q)  # type: ignore[attr-defined]  # no LRU
                enc[k].append((time.perf_counter() - t) * 1e3)
            same += ids["onnx"] == ids["torch"]
        mem.close()
    out: dict[str, Any] = {
        "data": info,
        "ingest_s": round(ingest_s, 1),
        "machine": api.machine(),
        "search_ms": {k: api.stats(v) for k, v in lat.items()},
        "embed_query_ms": {k: api.stats(v) for k, v in enc.items()},
        "same_top_k": f"{same}/{len(timed)}",
        "ratio_search_p50_onnx_over_torch": round(
            float(np.percentile(lat["onnx"], 50) / np.percentile(lat["torch"], 50)), 3
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(json.dumps({k: v for k, v in out.items() if k not in ("data", "machine")}, indent=1))
    return out


if __name__ == "__main__":
    main()
