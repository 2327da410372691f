"""`/metrics` in the Prometheus text format (0.0.4), with no extra dependency.

Request counts and latency histograms per route template (never per raw path, so ids do not
explode the label space), LLM usage, loaded index partitions and vectors, the job queue,
garbage-collector pauses (`memsvc.api.heap`).
Nothing here names a tenant: partitions are counted, not listed."""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict

from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memsvc.api.heap import GcPauses
from memsvc.db.models import Job
from memsvc.runtime import Runtime

# Seconds; recall is expected in the tens of milliseconds, ingest in the hundreds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """Thread-safe request counters and latency histograms."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[tuple[str, str, str], int] = defaultdict(int)
        self.buckets: dict[tuple[str, str], list[int]] = {}
        self.sums: dict[tuple[str, str], float] = defaultdict(float)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route)
        with self._lock:
            self.counts[(method, route, str(status))] += 1
            hist = self.buckets.setdefault(key, [0] * (len(BUCKETS) + 1))
            hist[bisect.bisect_left(BUCKETS, seconds)] += 1
            self.sums[key] += seconds

    def lines(self) -> list[str]:
        out = [
            "# HELP memsvc_http_requests_total HTTP requests by method, route and status.",
            "# TYPE memsvc_http_requests_total counter",
        ]
        with self._lock:
            counts = dict(self.counts)
            buckets = {k: list(v) for k, v in self.buckets.items()}
            sums = dict(self.sums)
        for (method, route, status), n in sorted(counts.items()):
            out.append(
                f'memsvc_http_requests_total{{method="{method}",route="{_esc(route)}",'
                f'status="{status}"}} {n}'
            )
        out += [
            "# HELP memsvc_http_request_seconds Wall time of HTTP requests.",
            "# TYPE memsvc_http_request_seconds histogram",
        ]
        for (method, route), hist in sorted(buckets.items()):
            labels = f'method="{method}",route="{_esc(route)}"'
            running = 0
            for bound, n in zip((*BUCKETS, float("inf")), hist, strict=True):
                running += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(f'memsvc_http_request_seconds_bucket{{{labels},le="{le}"}} {running}')
            out.append(f"memsvc_http_request_seconds_sum{{{labels}}} {sums[(method, route)]:.6f}")
            out.append(f"memsvc_http_request_seconds_count{{{labels}}} {running}")
        return out


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class MetricsMiddleware:
    """Times every HTTP request; the route label is the matched path template."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)


def render(metrics: RequestMetrics, rt: Runtime, gc_pauses: GcPauses) -> str:
    lines = metrics.lines() + gc_pauses.lines()
    usage = rt.llm.totals.snapshot()
    for name, value, help_ in (
        ("memsvc_llm_calls_total", usage.calls, "LLM calls made (litellm)."),
        ("memsvc_llm_failed_calls_total", usage.failed_calls, "LLM calls that failed."),
        ("memsvc_llm_retries_total", usage.retries, "LLM call retries."),
        ("memsvc_llm_prompt_tokens_total", usage.prompt_tokens, "Prompt tokens sent."),
        ("memsvc_llm_completion_tokens_total", usage.completion_tokens, "Tokens received."),
    ):
        lines += [f"# HELP {name} {help_}", f"# TYPE {name} counter", f"{name} {value}"]
    loaded = rt.indexes.loaded()
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, count in loaded.values():
        by_kind[kind][0] += 1
        by_kind[kind][1] += count
    lines += [
        "# HELP memsvc_index_partitions Vector indexes loaded in memory, by kind.",
        "# TYPE memsvc_index_partitions gauge",
        *(f'memsvc_index_partitions{{kind="{k}"}} {v[0]}' for k, v in sorted(by_kind.items())),
        "# HELP memsvc_index_vectors Vectors in the loaded indexes, by kind.",
        "# TYPE memsvc_index_vectors gauge",
        *(f'memsvc_index_vectors{{kind="{k}"}} {v[1]}' for k, v in sorted(by_kind.items())),
        "# HELP memsvc_index_compactions_total SPANN indexes compacted by the periodic save.",
        "# TYPE memsvc_index_compactions_total counter",
        f"memsvc_index_compactions_total {rt.indexes.compactions}",
        "# HELP memsvc_index_compaction_seconds_total Time those compactions took (writers wait).",
        "# TYPE memsvc_index_compaction_seconds_total counter",
        f"memsvc_index_compaction_seconds_total {rt.indexes.compaction_s:.3f}",
    ]
    # "failed" always shows (0 included): parked jobs need an alert, not a missing series.
    jobs: dict[str, int] = {"pending": 0, "failed": 0}
    with rt.db.read() as session:
        for status, n in session.execute(select(Job.status, func.count()).group_by(Job.status)):
            jobs[str(status)] = int(n)
    lines += [
        "# HELP memsvc_jobs Jobs in the durable queue, by status.",
        "# TYPE memsvc_jobs gauge",
    ]
    lines += [f'memsvc_jobs{{status="{s}"}} {n}' for s, n in sorted(jobs.items())]
    return "\n".join(lines) + "\n"
