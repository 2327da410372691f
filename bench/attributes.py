"""CPU time of the offline note attributes (`memsvc.text.attributes.compute`: keyphrases,
tags, facts, slots) on the golden requests of tests/text/test_attributes_golden.py (the
shipped LongMemEval sessions as ingest makes them, by turn and by round), one process.

    HF_HUB_OFFLINE=1 python bench/attributes.py [--passes 3] [--method builtin] \\
        [--profile] [--top 25] [--out FILE.json]

Each pass computes every request once, in file order, timing each call (`perf_counter`);
a request's time is its fastest pass (the machine is shared, and a slower pass only measures
what else ran), and the table gives ms per text (p50, p95, mean, total) overall and by role,
with the CPU seconds (`process_time`) of each pass. Pass 1 is reported apart: it fills the
word-level caches (stems, lemmas, inflections) that a long-running worker has warm. One text
is computed before timing, so the lazily read tables (lemminflect's) are not in pass 1.
`--profile` then runs cProfile over one more pass and prints the top entries by own time
and by cumulative time.

To time another tree (a worktree of an older commit), run this file with that tree first on
the path: `PYTHONPATH=/tmp/wt python bench/attributes.py ...` (`memsvc` in the output says
which tree was imported); the requests always come from this file's tree.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import lzma
import os
import platform
import pstats
import statistics
import time
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parents[1] / "tests/text/data/attributes-golden.json.xz"

Request = tuple[str, str | None, str | None, str]


def load(path: Path, method: str) -> list[Request]:
    """The golden file's requests (its layout: tests/text/test_attributes_golden.py)."""
    with lzma.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    texts = data["texts"]
    reqs: list[Request] = []
    for ci, role, pi, m, *_ in data["cases"]:
        if method in ("all", m):
            reqs.append((texts[ci], role, None if pi is None else texts[pi], m))
    return reqs


def one_pass(compute: Any, reqs: list[Request]) -> tuple[list[float], float]:
    """Seconds per request, and the pass's CPU seconds."""
    times: list[float] = []
    cpu0 = time.process_time()
    for r in reqs:
        t0 = time.perf_counter()
        compute(r)
        times.append(time.perf_counter() - t0)
    return times, time.process_time() - cpu0


def summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1e3 for s in seconds)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 4),
        "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 4),
        "mean_ms": round(statistics.fmean(ms), 4),
        "total_s": round(sum(ms) / 1e3, 3),
    }


def profile(compute: Any, reqs: list[Request], top: int) -> dict[str, str]:
    prof = cProfile.Profile()
    prof.enable()
    for r in reqs:
        compute(r)
    prof.disable()
    out: dict[str, str] = {}
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
        out[key] = buf.getvalue()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--golden", type=Path, default=GOLDEN)
    parser.add_argument("--method", choices=("builtin", "yake", "all"), default="builtin")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="first N requests only")
    parser.add_argument("--profile", action="store_true", help="cProfile one more pass")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, help="save the numbers as JSON")
    args = parser.parse_args()

    import memsvc
    from memsvc.text.attributes import compute

    reqs = load(args.golden, args.method)
    if args.limit:
        reqs = reqs[: args.limit]
    compute(("I moved to Lisbon and started running every morning.", "user", None, "builtin"))
    passes = [one_pass(compute, reqs) for _ in range(args.passes)]
    best = [min(p[0][i] for p in passes) for i in range(len(reqs))]
    rows = {"all (fastest pass per text)": summary(best), "pass 1": summary(passes[0][0])}
    for role in ("user", "assistant"):
        rows[f"{role} (fastest)"] = summary(
            [t for t, r in zip(best, reqs, strict=True) if r[1] == role]
        )
    result: dict[str, Any] = {
        "memsvc": str(Path(memsvc.__file__).parent),
        "python": platform.python_version(),
        "cpus": len(os.sched_getaffinity(0)),
        "method": args.method,
        "requests": len(reqs),
        "mean_chars": round(statistics.fmean(len(r[0]) for r in reqs), 1),
        "passes": args.passes,
        "cpu_s_per_pass": [round(p[1], 3) for p in passes],
        "rows": rows,
    }
    print(
        f"memsvc {result['memsvc']}  {len(reqs)} requests ({args.method}), "
        f"{result['mean_chars']} characters on average, {args.passes} passes"
    )
    print(f"{'':30s} {'n':>5s} {'p50 ms':>8s} {'p95 ms':>8s} {'mean ms':>8s} {'total s':>8s}")
    for name, s in rows.items():
        print(
            f"{name:30s} {s['n']:5d} {s['p50_ms']:8.3f} {s['p95_ms']:8.3f} "
            f"{s['mean_ms']:8.3f} {s['total_s']:8.2f}"
        )
    print("CPU s per pass:", ", ".join(f"{c:.2f}" for c in result["cpu_s_per_pass"]))
    if args.profile:
        result["profile"] = profile(compute, reqs, args.top)
        for key, text in result["profile"].items():
            print(f"\n--- cProfile, top {args.top} by {key} ---\n{text}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
