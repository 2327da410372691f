"""bench/load.py: the workload and the statistics (fast), one tiny real run (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import load


def test_corpus_rounds_and_seed() -> None:
    questions, rounds, seed = load.corpus(40)
    assert len(seed) == 40 and questions
    assert all([m["role"] for m in r] == ["user", "assistant"] for r in rounds)
    seeded = {m["content"] for m in seed}
    assert not seeded & {m["content"] for r in rounds for m in r}  # adds are new text


def test_route_summary_counts_429s_apart_from_errors() -> None:
    route = load.Route(ms=[10.0, 20.0, 30.0, 40.0])
    route.throttled = 2
    route.retry_after += [1.0, 1.0]
    route.errors["timeout"] += 1
    s = route.summary(duration_s=2.0)
    assert s["requests"] == 7 and s["ok"] == 4 and s["throttled_429"] == 2 and s["errors"] == 1
    assert s["ok_per_s"] == 2.0 and s["retry_after_s"] == [1.0]
    assert s["ms"]["p50"] == 25.0 and s["ms"]["max"] == 40.0


def test_goals() -> None:
    def route(ms: dict[str, float], errors: int = 0) -> dict[str, object]:
        return {"ms": ms, "errors": errors}

    res = {
        "routes": {
            "healthz": route({"p99": 12.0}),
            "search": route({"p99": 151.0}),
            "add": route({"p95": 2500.0}, errors=1),
        }
    }
    plain, llm = load.goals(res, llm=False), load.goals(res, llm=True)
    assert plain["healthz_p99_ms"]["met"] and not plain["search_p99_ms"]["met"]
    assert not plain["add_p95_ms"]["met"] and llm["add_p95_ms"]["met"]
    assert plain["errors_0"] == {"value": 1, "goal": 0, "met": False}


@pytest.mark.slow
def test_tiny_run_with_the_slow_llm(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    args = ["--clients", "3", "--duration", "4", "--seed", "10", "--llm-delay", "3"]
    res = load.main([*args, "--out", str(out)])
    assert json.loads(out.read_text())["routes"] == res["routes"]
    routes = res["routes"]
    assert routes["search"]["ok"] > 0 and routes["healthz"]["ok"] > 0
    assert sum(r["errors"] for r in routes.values()) == 0
    assert res["llm"]["calls"] >= 1
