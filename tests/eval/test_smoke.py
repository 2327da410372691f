"""Smoke runs through the real in-process ``Memory`` (real model, real SQLite, real index)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from memsvc_eval.report import write_report
from memsvc_eval.results import load_ingest, load_results
from memsvc_eval.runner import RunOptions, run_suite
from memsvc_eval.suites import Suite, dev_suite

from memsvc.embed import CachedEmbedder
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import FixtureLLMServer


def _small_dev(data_dir: Path, n: int, sessions: int) -> Suite:
    full = dev_suite(data_dir, seed=0, target=sessions)
    return Suite("dev-smoke", full.records[:n], 0, sessions, full.sources)


def test_smoke_dev_questions_through_memory(tmp_path: Path, data_dir: Path) -> None:
    suite = _small_dev(data_dir, 4, 5)
    out = tmp_path / "run"
    opts = RunOptions(
        out_dir=out, workers=2, progress=False, cache_dir=tmp_path / "cache", top_k=10
    )
    assert run_suite(suite, opts) == 0
    report = write_report(out)
    assert list(report["systems"]) == ["memsvc", "bm25", "dense"]
    turns = {
        r.question_id: {(s.session_id, i) for s in r.sessions for i in range(len(s.turns))}
        for r in suite.records
    }
    results = load_results(out)
    assert len(results) == 12
    for r in results:
        assert r.error is None
        assert 0 < len(r.hits) <= 10
        for hit in r.hits:
            # Every memsvc hit maps back to turns of this question's own haystack.
            assert hit and set(hit) <= turns[r.question_id]
    for name, s in report["systems"].items():
        overall = s["retrieval"]["overall"]
        assert overall["session"]["n"] == 3  # one of the four is an abstention question
        assert all(0.0 <= v <= 1.0 for k, v in overall["session"].items() if k != "n")
        assert s["latency"]["p50_ms"] > 0, name
    mem = report["systems"]["memsvc"]
    assert mem["ingest"]["turns"] == sum(len(s.turns) for r in suite.records for s in r.sessions)
    assert mem["ingest"]["llm_calls"] == 0
    assert report["ratios"]["memsvc"].keys() == {"bm25", "dense"}
    assert (out / "recall_at_k.png").stat().st_size > 0
    # A rerun of a complete folder does no work and changes nothing.
    before = (out / "results.jsonl").read_text()
    assert run_suite(suite, opts) == 0
    assert (out / "results.jsonl").read_text() == before
    assert len(load_ingest(out)) == 12


@pytest.mark.slow
def test_qa_mode_through_memory_with_the_fixture_llm(
    tmp_path: Path, data_dir: Path, llm_server: FixtureLLMServer
) -> None:
    suite = _small_dev(data_dir, 2, 3)
    llm = json.loads(llm_settings(llm_server).model_dump_json())
    opts = RunOptions(
        out_dir=tmp_path / "run",
        progress=False,
        cache_dir=tmp_path / "cache",
        qa=True,
        baselines=(),
        common={"llm": llm},
        top_k=5,
    )
    assert run_suite(suite, opts) == 0
    report = write_report(tmp_path / "run", plots=False)
    mem = report["systems"]["memsvc"]
    assert mem["qa"]["overall"]["n"] == 2
    assert mem["qa"]["overall"]["judged"] == 2
    assert mem["qa"]["llm_calls"] == 4  # one answer and one judge call per question
    assert len(llm_server.requests_for("answer")) == 2
    # Whatever LLM work ingest did is what the report counts (the fixture never fails,
    # so requests = calls), per ingested turn.
    ingest_requests = [
        r
        for r in llm_server.requests
        if r.prompt != "answer" and not (r.prompt or "").startswith("judge_")
    ]
    ing = mem["ingest"]
    assert ing["llm_calls"] == len(ingest_requests)
    assert ing["llm_calls_per_turn"] == ing["llm_calls"] / ing["turns"]


@pytest.mark.slow
def test_a_scope_half_ingested_before_a_crash_is_emptied_and_redone(
    tmp_path: Path, data_dir: Path, embedder: CachedEmbedder
) -> None:
    from memsvc_eval.scopes import ScopeStore, scope_id
    from memsvc_eval.system import MemsvcSystem, SystemConfig, build_settings

    suite = _small_dev(data_dir, 1, 3)
    rec = suite.records[0]
    out = tmp_path / "run"
    opts = RunOptions(out_dir=out, progress=False, cache_dir=tmp_path / "cache", baselines=())
    # The crash: the first session went in, the marker says "started", no finished map.
    settings = build_settings(
        SystemConfig(),
        data_dir=out / "data" / "memsvc",
        cache_dir=tmp_path / "cache",
        device="cpu",
    )
    scope = scope_id("memsvc", rec.haystack_hash())
    ScopeStore(out / "scopes").mark_started("memsvc", rec.haystack_hash())
    partial = MemsvcSystem("memsvc", settings=settings, embedder=embedder)
    first = rec.sessions[0]
    partial.mem.add(
        messages=[{"role": t.role, "content": t.content} for t in first.turns],
        user_id=scope,
        session_id=first.session_id,
        timestamp=first.date,
    )
    partial.close()
    assert run_suite(suite, opts) == 0
    check = MemsvcSystem("memsvc", settings=settings, embedder=embedder)
    try:
        page = check.mem.get_all(user_id=scope, limit=500)
        episodes = [e for m in page.results for e in m.episode_ids]
    finally:
        check.close()
    n_turns = sum(len(s.turns) for s in rec.sessions)
    # Every turn is in the scope exactly once: the partial ingest was removed first.
    assert len(episodes) == len(set(episodes)) == n_turns
    (result,) = load_results(out)
    assert result.error is None and result.hits


@pytest.mark.slow
def test_url_mode_against_a_live_server_matches_in_process(
    tmp_path: Path, data_dir: Path, embedder: CachedEmbedder
) -> None:
    from memsvc.api import create_app
    from tests.conftest import LiveServer, make_settings

    suite = _small_dev(data_dir, 3, 4)
    local = RunOptions(
        out_dir=tmp_path / "local", progress=False, cache_dir=tmp_path / "c", baselines=()
    )
    assert run_suite(suite, local) == 0
    with LiveServer(create_app(make_settings(tmp_path / "srv"), embedder=embedder)) as srv:
        remote = RunOptions(
            out_dir=tmp_path / "remote",
            progress=False,
            cache_dir=None,
            baselines=(),
            url=srv.url,
        )
        assert run_suite(suite, remote) == 0
    got = {r.question_id: r.hits for r in load_results(tmp_path / "local")}
    via_http = {r.question_id: r.hits for r in load_results(tmp_path / "remote")}
    assert len(got) == 3 and all(got.values())
    assert via_http == got


def test_search_only_configurations_share_one_ingested_store(
    tmp_path: Path, data_dir: Path
) -> None:
    from memsvc_eval.system import SystemConfig

    suite = _small_dev(data_dir, 3, 4)
    out = tmp_path / "run"
    systems = [
        SystemConfig("memsvc"),
        SystemConfig("no-lexical", {"recall": {"lexical": False}}),
        SystemConfig("turns", {"ingest": {"granularity": "turn"}}),
    ]
    opts = RunOptions(
        out_dir=out, progress=False, cache_dir=tmp_path / "cache", systems=systems, baselines=()
    )
    assert run_suite(suite, opts) == 0
    ingested = {i.system for i in load_ingest(out)}
    assert ingested == {"memsvc", "turns"}  # no-lexical searched memsvc's store
    assert not (out / "data" / "no-lexical").exists()
    results = load_results(out)
    by = {(r.system, r.question_id): r for r in results}
    assert len(results) == 9 and all(r.error is None for r in results)
    for r in suite.records:
        own = {(s.session_id, i) for s in r.sessions for i in range(len(s.turns))}
        hits = by[("no-lexical", r.question_id)].hits
        assert hits and all(set(h) <= own for h in hits)
    report = write_report(out)
    assert report["systems"]["no-lexical"]["ingest"]["turns"] == 0
