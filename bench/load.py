"""Load benchmark of the HTTP API: many concurrent clients against one `memsvc serve`.

    python -m bench.load                          # 30 clients x 60 s, 80 % search / 20 % add
    python -m bench.load --clients 10 --duration 20 --out /tmp/load.json
    python -m bench.load --llm-delay 10           # with a slow LLM (10 s per call)

1. A `memsvc serve` subprocess on 127.0.0.1 on the embedded default (SQLite) in a fresh temp
   data dir, pre-seeded through the SDK with --seed messages (LongMemEval turns, `infer=false`
   so seeding never waits for an LLM) spread over --users users.
2. --clients asyncio clients, each in a closed loop for --duration seconds: with probability
   --search-share a search (a LongMemEval question, top_k=10, a random user), else an add of
   one round (a user turn and the assistant reply, default `wait=true`). A 429 is counted
   separately from errors and the client sleeps for its Retry-After (a well-behaved client);
   any other non-2xx, a transport error or a timeout (--timeout, the SDK's 60 s) is an error.
3. A prober GETs /healthz every --probe-interval seconds on its own connection throughout.
4. With --llm-delay S the OpenAI-compatible fixture LLM of the tests
   (tests/support/llm_server.py) runs in this process and answers every call after S seconds
   with its default plausible answers; memsvc is configured to use it.

Reported per route (add, search, healthz): requests, ok, 429s, errors (by kind), latency of the
ok answers p50/p95/p99/max in ms, ok/s. Printed and written as JSON under bench/results/.
Client and server share the machine, so the numbers include the client's own overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/load.py` as well as `python -m bench.load`
    sys.path.insert(0, str(ROOT))

from bench.api import DATA, load, machine, serve_command, stop, wait_ready  # noqa: E402

GOALS = {"healthz_p99_ms": 50.0, "search_p99_ms": 150.0, "add_p95_ms": 1000.0}
GOAL_ADD_P95_LLM_MS = 3000.0


@dataclass
class Route:
    """Outcomes of one route: latencies of ok answers, 429s, errors by kind."""

    ms: list[float] = field(default_factory=list)
    throttled: int = 0
    retry_after: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    extra: Counter[str] = field(default_factory=Counter)

    def summary(self, duration_s: float) -> dict[str, Any]:
        a = np.asarray(self.ms, dtype=np.float64)
        lat: dict[str, float] = {}
        if a.size:
            p = np.percentile(a, [50, 95, 99])
            lat = {"p50": p[0], "p95": p[1], "p99": p[2], "max": a.max(), "mean": a.mean()}
            lat = {k: round(float(v), 2) for k, v in lat.items()}
        n_err = sum(self.errors.values())
        return {
            "requests": len(self.ms) + self.throttled + n_err,
            "ok": len(self.ms),
            "throttled_429": self.throttled,
            "retry_after_s": sorted(set(self.retry_after)),
            "errors": n_err,
            "error_kinds": dict(self.errors),
            "ok_per_s": round(len(self.ms) / duration_s, 2),
            "ms": lat,
            **({"counts": dict(self.extra)} if self.extra else {}),
        }


def corpus(n_seed: int) -> tuple[list[str], list[list[dict[str, str]]], list[dict[str, str]]]:
    """(questions, rounds to add during the load, messages to seed) from LongMemEval."""
    turns, questions = load(sorted(DATA.glob("*.json")))
    rounds: list[list[dict[str, str]]] = []
    for (_, r1, t1), (_, r2, t2) in itertools.pairwise(turns):
        if r1 == "user" and r2 == "assistant" and len(t1) < 2000 and len(t2) < 2000:
            rounds.append([{"role": "user", "content": t1}, {"role": "assistant", "content": t2}])
    random.Random(7).shuffle(rounds)
    seed = [m for rnd in rounds[: (n_seed + 1) // 2] for m in rnd][:n_seed]
    return questions, rounds[(n_seed + 1) // 2 :], seed


def start_llm(delay_s: float) -> Any:
    """The tests' fixture LLM, answering every request after `delay_s` seconds."""
    from tests.support.llm_actions import delay
    from tests.support.llm_defaults import default_responder
    from tests.support.llm_server import FixtureLLMServer

    server = FixtureLLMServer().start()
    server.add(None, delay(delay_s, default_responder))
    return server


async def seed_store(url: str, msgs: list[dict[str, str]], users: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        for i in range(0, len(msgs), 20):
            body = {"messages": msgs[i : i + 20], "user_id": f"load-{(i // 20) % users}"}
            r = await http.post("/v1/memories", json={**body, "infer": False, "wait": True})
            r.raise_for_status()


async def run_load(
    args: argparse.Namespace, url: str, questions: list[str], rounds: list[Any]
) -> tuple[dict[str, Route], float]:
    routes = {name: Route() for name in ("search", "add", "healthz")}
    limits = httpx.Limits(max_connections=args.clients + 2, max_keepalive_connections=args.clients)
    deadline = time.monotonic() + args.duration
    next_round = iter(range(10**9))

    async def one(http: httpx.AsyncClient, route: str, method: str, path: str, **kw: Any) -> None:
        stats = routes[route]
        t = time.perf_counter()
        try:
            r = await http.request(method, path, **kw)
        except httpx.TimeoutException:
            stats.errors["timeout"] += 1
            return
        except httpx.TransportError as exc:
            stats.errors[f"transport: {type(exc).__name__}"] += 1
            return
        ms = (time.perf_counter() - t) * 1000
        if r.status_code == 429:
            stats.throttled += 1
            wait = float(r.headers.get("retry-after", "1") or 1)
            stats.retry_after.append(wait)
            await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))
        elif r.status_code >= 400:
            stats.errors[f"{r.status_code}: {r.text[:120]}"] += 1
        else:
            stats.ms.append(ms)
            if route == "add":
                stats.extra["pending_enrichment"] += int(r.json().get("pending_enrichment", 0))

    async def client(i: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(1000 + i)
        while time.monotonic() < deadline:
            user = f"load-{rng.randrange(args.users)}"
            if rng.random() < args.search_share:
                body = {"query": rng.choice(questions), "user_id": user, "top_k": 10}
                await one(http, "search", "POST", "/v1/memories/search", json=body)
            else:
                msgs = rounds[next(next_round) % len(rounds)]
                body = {"messages": msgs, "user_id": user, "wait": not args.no_wait}
                await one(http, "add", "POST", "/v1/memories", json=body)

    async def prober(http: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            await one(http, "healthz", "GET", "/healthz")
            await asyncio.sleep(args.probe_interval)

    t0 = time.monotonic()
    async with (
        httpx.AsyncClient(base_url=url, timeout=args.timeout, limits=limits) as http,
        httpx.AsyncClient(base_url=url, timeout=args.timeout) as probe_http,
    ):
        await asyncio.gather(prober(probe_http), *(client(i, http) for i in range(args.clients)))
    return routes, time.monotonic() - t0


def goals(res: dict[str, Any], llm: bool) -> dict[str, Any]:
    r = res["routes"]
    add_goal = GOAL_ADD_P95_LLM_MS if llm else GOALS["add_p95_ms"]
    checks = {
        "errors_0": (sum(x["errors"] for x in r.values()), 0),
        "healthz_p99_ms": (r["healthz"]["ms"].get("p99"), GOALS["healthz_p99_ms"]),
        "search_p99_ms": (r["search"]["ms"].get("p99"), GOALS["search_p99_ms"]),
        "add_p95_ms": (r["add"]["ms"].get("p95"), add_goal),
    }
    return {
        k: {"value": v, "goal": g, "met": v is not None and v <= g} for k, (v, g) in checks.items()
    }


def jobs_pending(url: str) -> dict[str, float]:
    """The job queue's gauges from /metrics (enrichment still owed when the load stopped)."""
    try:
        text = httpx.get(url + "/metrics", timeout=30).text
    except httpx.HTTPError:
        return {}
    out = {}
    for line in text.splitlines():
        if line.startswith("memsvc_jobs"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    fmt = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--search-share", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=400, help="messages stored before the load")
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--llm-delay", type=float, help="start the fixture LLM with this delay (s)")
    ap.add_argument("--no-wait", action="store_true", help="adds with wait=false")
    ap.add_argument("--timeout", type=float, default=60.0, help="client timeout (SDK default)")
    ap.add_argument("--probe-interval", type=float, default=0.1, help="seconds between /healthz")
    ap.add_argument("--threads", type=int, help="MEMSVC_EMBED__TORCH_THREADS for the server")
    ap.add_argument("--env", action="append", default=[], help="extra server KEY=VALUE")
    ap.add_argument("--out", type=Path, help="JSON (default bench/results/load-*.json)")
    ap.add_argument("--port", type=int, default=0, help="default: a free port")
    args = ap.parse_args(argv)
    if args.clients < 1 or args.duration <= 0 or not 0 <= args.search_share <= 1:
        ap.error("--clients >= 1, --duration > 0 and 0 <= --search-share <= 1")
    tag = f"-llm{args.llm_delay:g}s" if args.llm_delay is not None else ""
    args.out = args.out or ROOT / f"bench/results/load-{args.clients}x{args.duration:g}s{tag}.json"
    if not args.port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = int(sock.getsockname()[1])
    started = datetime.now(UTC).isoformat(timespec="seconds")
    questions, rounds, seed = corpus(args.seed)
    data_dir = Path(tempfile.mkdtemp(prefix="memsvc-load-"))
    url, log = f"http://127.0.0.1:{args.port}", data_dir / "server.log"
    env = {**os.environ, "MEMSVC_DATA_DIR": str(data_dir), "MEMSVC_PORT": str(args.port)}
    env.update(MEMSVC_HOST="127.0.0.1", HF_HUB_OFFLINE="1", MEMSVC_LOG_LEVEL="warning")
    if args.threads:
        env["MEMSVC_EMBED__TORCH_THREADS"] = str(args.threads)
    llm = start_llm(args.llm_delay) if args.llm_delay is not None else None
    if llm is not None:
        env.update(MEMSVC_LLM__MODEL="openai/fixture", MEMSVC_LLM__API_BASE=llm.url)
        env.update(MEMSVC_LLM__API_KEY="bench")
    env.update(dict(kv.split("=", 1) for kv in args.env))
    server_env = {k: v for k, v in env.items() if k.startswith("MEMSVC_") and "KEY" not in k}
    proc = None
    try:
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                [*serve_command(), "serve"], env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT
            )
            wait_ready(proc, url, log)
            t = time.perf_counter()
            asyncio.run(seed_store(url, seed, args.users))
            seed_s = time.perf_counter() - t
            print(f"seeded {len(seed)} messages in {seed_s:.1f}s; load starts", flush=True)
            routes, took = asyncio.run(run_load(args, url, questions, rounds))
            jobs = jobs_pending(url) if llm is not None else {}
        if proc.poll() is not None:
            raise SystemExit(f"memsvc exited during the load:\n{log.read_text()[-3000:]}")
    finally:
        if proc is not None:
            stop(proc)
        if llm is not None:
            llm.stop()
        server_log = log.read_text(errors="replace")[-5000:] if log.exists() else ""
        shutil.rmtree(data_dir, ignore_errors=True)
    result: dict[str, Any] = {
        "benchmark": "bench/load.py", "date": started, "machine": machine(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "server_env": server_env, "seed": {"messages": len(seed), "seconds": round(seed_s, 1)},
        "duration_s": round(took, 1),
        "routes": {name: r.summary(took) for name, r in routes.items()},
        **({"llm": {"delay_s": args.llm_delay, "calls": len(llm.requests), "jobs": jobs}}
           if llm is not None else {}),
    }  # fmt: skip
    result["goals"] = goals(result, llm is not None)
    if any(r["errors"] for r in result["routes"].values()):
        result["server_log_tail"] = server_log
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, args.out)
    print_table(result)
    print(f"-> {args.out}")
    return result


def print_table(r: dict[str, Any]) -> None:
    print(f"{r['args']['clients']} clients x {r['duration_s']} s")
    for name, s in r["routes"].items():
        ms = "  ".join(f"{k} {s['ms'].get(k, float('nan')):8.1f}" for k in ("p50", "p95", "p99"))
        print(
            f"{name:8} ok {s['ok']:6}  429 {s['throttled_429']:4}  err {s['errors']:4}  "
            f"{s['ok_per_s']:7.1f}/s  ms: {ms}  max {s['ms'].get('max', float('nan')):8.1f}"
        )
        if s["error_kinds"]:
            print(f"         errors: {s['error_kinds']}")
    for k, g in r["goals"].items():
        print(f"goal {k:16} {g['value']!s:>10} <= {g['goal']:<8} {'met' if g['met'] else 'MISSED'}")
    if "llm" in r:
        print(f"llm: {r['llm']}")


if __name__ == "__main__":
    main()
