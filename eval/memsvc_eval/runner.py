"""Run a suite: ingest each haystack once per system, search every question, log results.

Work is grouped by haystack (questions with identical haystacks share one ingested scope)
and spread over ``workers`` threads. Everything lands in the run folder as it happens
(``results.jsonl``, ``ingest.jsonl``, ``scopes/``), so an interrupted run resumes where it
stopped; the report is computed from those logs at the end.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .baselines import Baseline, BM25Baseline, DenseBaseline, Haystack, run_baseline
from .data import Record
from .provenance import REPO, source_hash
from .results import IngestResult, QuestionResult, RunLogs, write_json_atomic
from .scopes import ScopeStore, group_by_haystack, scope_id
from .suites import Suite
from .system import MemsvcSystem, SystemConfig, build_settings, ingest_key

RUN_FILE = "run.json"
BASELINES = ("bm25", "dense")


@dataclass
class RunOptions:
    out_dir: Path
    top_k: int = 10
    workers: int = 1
    device: str = "cpu"
    url: str | None = None
    api_key: str | None = None  # for --url; not part of the fingerprint
    qa: bool = False
    cache_dir: Path | None = Path(".cache/memsvc_eval")
    systems: Sequence[SystemConfig] = (SystemConfig(),)
    common: dict[str, Any] = field(default_factory=dict)  # --set overrides, every system
    baselines: Sequence[str] = BASELINES
    progress: bool = True
    argv: list[str] | None = None
    # Sessions a call: 1 = one `add` each, as agents send them; more = `add_many` (a backlog).
    sessions_per_add: int = 1

    def fingerprint(self, suite: Suite) -> dict[str, Any]:
        """What must not change for a resumed run to be one run."""
        ids = "\n".join(r.question_id + ":" + r.haystack_hash() for r in suite.records)
        return {
            "suite": suite.name,
            "seed": suite.seed,
            "target_sessions": suite.target_sessions,
            "questions_sha256": hashlib.sha256(ids.encode()).hexdigest(),
            "top_k": self.top_k,
            "device": self.device,
            "url": self.url,
            "qa": self.qa,
            "systems": [{"name": s.name, "overrides": dict(s.overrides)} for s in self.systems],
            "common": self.common,
            "baselines": list(self.baselines),
            "sessions_per_add": self.sessions_per_add,
            # Resuming after a code change would mix two versions in one report.
            "source_sha256": source_hash(REPO),
        }


class ConfigMismatch(RuntimeError):
    """The run folder holds a run with another configuration."""


class RunFolderBusy(RuntimeError):
    """Another process is running into the same run folder."""


LOCK_FILE = ".lock"


@contextmanager
def exclusive(out_dir: Path) -> Iterator[None]:
    """One run at a time per run folder. Two processes resuming one folder would share its
    memsvc stores (each rebuilding index folders the other is writing) and its logs, and the
    report would give numbers neither run measured; the second one is refused instead. The
    lock is the kernel's (`flock`), so a run killed by any signal leaves no stale lock."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK_FILE, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise RunFolderBusy(
                f"{out_dir} is in use by a run in progress ({holder}); wait for it to finish "
                "or use another --out"
            ) from None
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _error(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


class Runner:
    def __init__(self, suite: Suite, opts: RunOptions) -> None:
        self.suite, self.opts = suite, opts
        opts.out_dir.mkdir(parents=True, exist_ok=True)
        self._check_fingerprint()
        self.logs = RunLogs(opts.out_dir)
        self.scopes = ScopeStore(opts.out_dir / "scopes")
        self.systems: list[MemsvcSystem] = []
        self.baselines: list[Baseline] = []
        self.qa: Any = None
        self.errors = 0
        self._model: Any = None  # the one embedding model shared by every wrapper
        self._wrappers: list[Any] = []
        self._cache_counts = [0, 0]  # embedding disk cache: hits, misses
        self._errors_lock = threading.Lock()

    def _check_fingerprint(self) -> None:
        path = self.opts.out_dir / RUN_FILE
        fp = json.loads(json.dumps(self.opts.fingerprint(self.suite), default=str))
        if path.exists():
            old = json.loads(path.read_text()).get("fingerprint")
            if old != fp:
                raise ConfigMismatch(
                    f"{self.opts.out_dir} holds a run with another configuration or another "
                    "version of the source (memsvc/ with its prompts, eval/); use a new --out "
                    "(or delete the folder) to start over"
                )
            return
        write_json_atomic(path, {"fingerprint": fp, "suite": self.suite.describe()})

    def _open(self) -> None:
        o = self.opts
        stores: dict[str, MemsvcSystem] = {}  # ingest key -> the system that ingests it
        for cfg in o.systems:
            settings = embedder = None
            if not o.url:
                settings = build_settings(
                    cfg,
                    data_dir=o.out_dir / "data" / cfg.name,
                    cache_dir=self._embed_cache(),
                    device=o.device,
                    common=o.common,
                )
                # A configuration that changes the embedding settings gets its own model.
                if "embed" not in cfg.overrides:
                    embedder = self._shared_embedder()
            # Configurations that differ only in search settings share one ingested store.
            key = ingest_key(settings) if settings is not None else None
            shares = stores.get(key) if key is not None and embedder is not None else None
            system = MemsvcSystem(
                cfg.name,
                settings=settings,
                url=o.url,
                api_key=o.api_key,
                embedder=embedder,
                shares=shares,
                sessions_per_add=o.sessions_per_add,
            )
            if key is not None and shares is None:
                stores[key] = system
            self.systems.append(system)
        for name in o.baselines:
            self.baselines.append(self._baseline(name))
        if o.qa:
            from .qa import QA

            llm = build_settings(
                SystemConfig(),
                data_dir=o.out_dir / "data" / "qa",
                cache_dir=None,
                device=o.device,
                common=o.common,
            ).llm
            self.qa = QA(llm)

    def _embed_cache(self) -> Path | None:
        # One cache per device kind: GPU embeddings are fp16, and a CPU run must not
        # silently reuse them (the cache key is model + text only).
        if not self.opts.cache_dir:
            return None
        kind = self.opts.device.split(":")[0]
        return self.opts.cache_dir / ("embed" if kind == "cpu" else f"embed-{kind}")

    def _shared_embedder(self) -> Any:
        """A disk-cached embedder over the one shared model, with its own query cache.

        Every memsvc configuration gets its own wrapper, so a query embedded for one
        configuration is not a free cache hit for the next (latencies stay comparable);
        the model itself is loaded once."""
        from memsvc.embed import CachedEmbedder, load_embedder, variant_of

        o = self.opts
        # The embedding settings every configuration shares: --set embed.* included.
        settings = build_settings(
            SystemConfig(),
            data_dir=o.out_dir,
            cache_dir=self._embed_cache(),
            device=o.device,
            common=o.common,
        ).embed
        if self._model is None:
            first = load_embedder(settings)
            self._model = first.inner
            self._wrappers.append(first)
            return first
        wrapper = CachedEmbedder(
            self._model,
            query_cache_size=settings.query_cache_size,
            cache_dir=settings.cache_dir,
            variant=variant_of(settings),
        )
        self._wrappers.append(wrapper)
        return wrapper

    def _baseline(self, name: str) -> Baseline:
        if name == "bm25":
            return BM25Baseline()
        if name == "dense":
            emb = self._shared_embedder()
            # Queries bypass the query cache: each costs a real forward pass, as in memsvc.
            return DenseBaseline(lambda texts: emb.embed(texts), emb.inner.embed_query)
        raise ValueError(f"unknown baseline {name!r} (choose from {', '.join(BASELINES)})")

    def close(self) -> None:
        for s in self.systems:
            s.close()
        for w in self._wrappers:
            self._cache_counts[0] += w.hits
            self._cache_counts[1] += w.misses
            w.close()

    def run(self) -> int:
        """Answer every pending question; returns how many failed (logged with their error)."""
        from tqdm import tqdm

        done = self.logs.done()
        names = [s.name for s in self.opts.systems] + list(self.opts.baselines)
        groups = [
            g
            for g in group_by_haystack(self.suite.records)
            if any((n, r.question_id) not in done for n in names for r in g)
        ]
        if not groups:
            return 0
        self._open()
        t0 = time.perf_counter()
        bar = tqdm(
            total=sum(len(g) for g in groups),
            unit="q",
            disable=not self.opts.progress,
            desc=f"{self.suite.dataset} {self.suite.name}",
            smoothing=0.1,
        )
        try:
            with ThreadPoolExecutor(max_workers=max(1, self.opts.workers)) as pool:
                for n in pool.map(lambda g: self._group(g, done), groups):
                    bar.update(n)
        finally:
            bar.close()
            self.close()
        self._record_wall(time.perf_counter() - t0)
        return self.errors

    def _record_wall(self, seconds: float) -> None:
        path = self.opts.out_dir / RUN_FILE
        data = json.loads(path.read_text())
        data.setdefault("sessions", []).append(
            {
                "seconds": seconds,
                "workers": self.opts.workers,
                "argv": self.opts.argv,
                "embed_cache": {"hits": self._cache_counts[0], "misses": self._cache_counts[1]},
            }
        )
        write_json_atomic(path, data)

    def _group(self, group: list[Record], done: set[tuple[str, str]]) -> int:
        for system in self.systems:
            todo = [r for r in group if (system.name, r.question_id) not in done]
            if todo:
                self._memsvc(system, todo)
        for b in self.baselines:
            todo = [r for r in group if (b.name, r.question_id) not in done]
            if todo:
                self._baseline_group(b, todo)
        return len(group)

    def _fail(self, name: str, records: Sequence[Record], exc: BaseException) -> None:
        with self._errors_lock:
            self.errors += len(records)
        for r in records:
            self.logs.add_result(
                QuestionResult.for_record(name, r, hits=[], latency_ms=0.0, error=_error(exc))
            )

    def _memsvc(self, system: MemsvcSystem, todo: list[Record]) -> None:
        first = todo[0]
        hay = first.haystack_hash()
        scope = scope_id(system.ingest_name, hay)
        try:
            episodes = self.scopes.load(system.ingest_name, hay)
            if episodes is None and system.ingest_name != system.name:
                raise RuntimeError(f"the store of {system.ingest_name!r} has no such haystack")
            if episodes is None:
                if self.scopes.started(system.name, hay):
                    system.reset_scope(scope)
                self.scopes.mark_started(system.name, hay)
                episodes, cost = system.ingest(first, scope)
                self.scopes.save(system.name, hay, episodes)
                self.logs.add_ingest(cost)
        except Exception as exc:
            self._fail(system.name, todo, exc)
            return
        for r in todo:
            try:
                out = system.search(r, scope, self.opts.top_k, episodes)
                qa = self.qa.run(r, out.memories) if self.qa is not None else None
                self.logs.add_result(
                    QuestionResult.for_record(
                        system.name, r, hits=out.hits, latency_ms=out.latency_ms, scope=scope, qa=qa
                    )
                )
            except Exception as exc:
                self._fail(system.name, [r], exc)

    def _baseline_group(self, b: Baseline, todo: list[Record]) -> None:
        try:
            hits, lat, stats = run_baseline(
                b, Haystack.of(todo[0]), [r.question for r in todo], self.opts.top_k
            )
        except Exception as exc:
            self._fail(b.name, todo, exc)
            return
        hay = todo[0].haystack_hash()
        self.logs.add_ingest(
            IngestResult(b.name, "", hay, len(todo[0].sessions), stats.turns, stats.seconds)
        )
        for r, h, ms in zip(todo, hits, lat, strict=True):
            self.logs.add_result(QuestionResult.for_record(b.name, r, hits=h, latency_ms=ms))


def run_suite(suite: Suite, opts: RunOptions) -> int:
    """Run (or resume) ``suite`` into ``opts.out_dir``; returns the number of failures.
    Raises `RunFolderBusy` while another process runs into the same folder."""
    with exclusive(opts.out_dir):
        return Runner(suite, opts).run()


def run_meta(out_dir: Path) -> dict[str, Any]:
    path = out_dir / RUN_FILE
    return json.loads(path.read_text()) if path.exists() else {}


__all__ = [
    "ConfigMismatch",
    "RunFolderBusy",
    "RunOptions",
    "Runner",
    "SystemConfig",
    "exclusive",
    "run_meta",
    "run_suite",
]
