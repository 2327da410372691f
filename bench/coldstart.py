"""Cold start of `memsvc serve`: spawn -> GET /readyz 200 -> first search -> first add.

    python -m bench.coldstart                      # 1 warm-up + 5 fresh + 5 existing data dirs
    python -m bench.coldstart --runs 3 --mode fresh --out /tmp/coldstart.json
    python -m bench.coldstart --runs 1 --importtime   # also the server's slowest imports

1. A warm-up start (not counted) makes sure the ONNX query export is cached
   (~/.cache/memsvc/onnx, or MEMSVC_EMBED__ONNX_DIR) and leaves one memory in a data dir that
   the "existing" runs reuse.
2. Each timed run spawns `memsvc serve` (the console script, as `bench.api` does; with --src,
   `python -m memsvc.cli serve` from that source tree, e.g. `git archive` of an older commit,
   for a before/after pair) on a free port of 127.0.0.1 with the embedded default (SQLite +
   local index) and measures from the spawn: /readyz 200 (polled every 20 ms on one
   connection pool: `bench.api.wait_ready`'s `httpx.get` builds a client, TLS context
   included, per poll, ~22 ms of CPU each, which on 2 cores slows the server it waits for), the
   first search 200
   (top_k=10; a search is what readiness promises), then the first add 200 (`wait=true`,
   `infer=false`, so no LLM; it needs the document model). "fresh" runs get an empty temp
   data dir (migrations run), "existing" runs the warm-up's dir. Modes alternate per run so
   both see the same machine load. The server is stopped with SIGTERM after each run.
3. With --importtime one more start (not counted: the profiler slows it) runs with
   PYTHONPROFILEIMPORTTIME=1, and the slowest top-level imports the server made before
   /readyz was 200 (cumulative, as `python -X importtime` reports them) join the result.

Written as JSON under bench/results/ (median/min/max per mode, every run, the load average
before each run: the machine is shared, so compare runs made back to back).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/coldstart.py` as well as `python -m bench.coldstart`
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.api import machine, serve_command, stop  # noqa: E402
from memsvc.client import MemoryClient  # noqa: E402

USER = "coldstart-user"
QUERY = "What did I say about my sister's wedding?"
_IMPORT = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(proc: subprocess.Popen[bytes], http: httpx.Client, log: Path) -> None:
    """`bench.api.wait_ready` on one client (see the module docstring), every 20 ms."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"memsvc exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if http.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"/readyz not 200 after 120 s:\n{log.read_text()[-3000:]}")


def one_start(
    data_dir: Path, log: Path, *, src: Path | None = None, importtime: bool = False
) -> dict[str, float]:
    """Seconds from spawn to /readyz 200, first search 200 and first add 200."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MEMSVC_DATA_DIR": str(data_dir), "MEMSVC_PORT": str(port)}
    env.update(MEMSVC_HOST="127.0.0.1", HF_HUB_OFFLINE="1")
    cmd, cwd = [*serve_command(), "serve"], ROOT
    if src is not None:
        cmd, cwd = [sys.executable, "-m", "memsvc.cli", "serve"], src
        env["PYTHONPATH"] = str(src)
    if importtime:
        env["PYTHONPROFILEIMPORTTIME"] = "1"
    load1 = os.getloadavg()[0]
    with (
        log.open("wb") as fh,
        httpx.Client(base_url=url, timeout=1.0) as http,
        MemoryClient(url, timeout=120, max_retries=0) as client,
    ):
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            wait_ready(proc, http, log)
            ready = time.perf_counter() - t0
            ready_at_byte = log.stat().st_size  # what the server had logged by then
            client.search(QUERY, user_id=USER, top_k=10)
            search = time.perf_counter() - t0
            client.add(
                "My sister's wedding is in June; I am giving the speech.",
                user_id=USER,
                infer=False,
                wait=True,
            )
            add = time.perf_counter() - t0
        finally:
            stop(proc)
    return {
        "readyz_s": round(ready, 3),
        "first_search_s": round(search, 3),
        "first_add_s": round(add, 3),
        "loadavg_1m": round(load1, 2),
        "log_bytes_at_ready": ready_at_byte,
    }


def slowest_imports(log: Path, upto: int, top: int = 15) -> list[dict[str, Any]]:
    """Top-level imports (no indentation in importtime's tree) by cumulative time, among
    those the server logged before /readyz was 200 (the first `upto` bytes of its log)."""
    rows: list[tuple[float, str]] = []
    for m in _IMPORT.finditer(log.read_bytes()[:upto].decode(errors="replace")):
        if not m.group(3):  # nested imports are already counted in their parent's total
            rows.append((int(m.group(2)) / 1000, m.group(4)))
    rows.sort(reverse=True)
    return [{"module": name, "cumulative_ms": ms} for ms, name in rows[:top]]


def summary(runs: Sequence[dict[str, float]]) -> dict[str, dict[str, float]]:
    out = {}
    for key in ("readyz_s", "first_search_s", "first_add_s"):
        vals = sorted(r[key] for r in runs)
        mid = len(vals) // 2
        median = vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2
        out[key] = {"median": round(median, 3), "min": vals[0], "max": vals[-1]}
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    fmt = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    ap.add_argument("--runs", type=int, default=5, help="timed starts per mode")
    ap.add_argument("--mode", choices=["fresh", "existing", "both"], default="both")
    ap.add_argument("--importtime", action="store_true", help="profile the server's imports")
    ap.add_argument("--src", type=Path, help="run the server from this source tree")
    ap.add_argument("--out", type=Path, help="JSON (default bench/results/coldstart-<rev>.json)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    os.environ["HF_HUB_OFFLINE"] = "1"
    modes = ["fresh", "existing"] if args.mode == "both" else [args.mode]
    started = datetime.now(UTC).isoformat(timespec="seconds")
    root = Path(tempfile.mkdtemp(prefix="memsvc-coldstart-"))
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    imports: list[dict[str, Any]] = []
    try:
        existing, log = root / "existing", root / "server.log"
        warm = one_start(existing, log, src=args.src)
        print(f"warm-up: {json.dumps(warm)}", flush=True)
        for i in range(args.runs):
            for mode in modes:
                data = existing if mode == "existing" else root / f"fresh-{i}"
                res = one_start(data, log, src=args.src)
                runs[mode].append(res)
                print(f"{mode} {i + 1}: {json.dumps(res)}", flush=True)
                if mode == "fresh":
                    shutil.rmtree(data, ignore_errors=True)
        if args.importtime:  # one more start, not counted: the profiler slows it
            res = one_start(existing, log, src=args.src, importtime=True)
            imports = slowest_imports(log, int(res["log_bytes_at_ready"]))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    info = machine()
    rev = info["git_rev"][:7]
    out = args.out or ROOT / f"bench/results/coldstart-{rev}.json"
    summaries = {m: summary(r) for m, r in runs.items()}
    result = {
        "benchmark": "bench/coldstart.py",
        "date": started,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": info,
        "warmup": warm,
        "summary": summaries,
        "runs": runs,
        **({"slowest_imports": imports} if imports else {}),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, out)
    for mode, s in summaries.items():
        cells = ", ".join(f"{k} {v['median']} ({v['min']}-{v['max']})" for k, v in s.items())
        print(f"{mode}: median (min-max) s: {cells}")
    for row in imports:
        print(f"  import {row['module']}: {row['cumulative_ms']:.0f} ms")
    print(f"-> {out}")
    return result


if __name__ == "__main__":
    main()
