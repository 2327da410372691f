"""Report rendering from a hand-written run folder: JSON schema, Markdown, PNGs, nightly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from memsvc_eval.nightly import compare
from memsvc_eval.nightly import main as nightly_main
from memsvc_eval.report import HEADLINE, SCHEMA, markdown, write_report
from memsvc_eval.results import IngestResult, QuestionResult, RunLogs, write_json_atomic

from .conftest import make_record

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _fill(out: Path, *, memsvc_hit: bool = True) -> None:
    """Three questions (one abstention) answered by memsvc and bm25."""
    write_json_atomic(
        out / "run.json",
        {"fingerprint": {"suite": "t", "top_k": 10}, "suite": {"name": "t", "questions": 3}},
    )
    logs = RunLogs(out)
    recs = [
        make_record("q1", qtype="multi-session"),
        make_record("q2", qtype="temporal-reasoning"),
        make_record("q3_abs", qtype="temporal-reasoning"),
    ]
    for r in recs:
        ev = (f"{r.question_id}_ev", 0)
        other = (f"{r.question_id}_other", 0)
        first = [[ev]] if memsvc_hit else [[other]]
        logs.add_result(
            QuestionResult.for_record(
                "memsvc",
                r,
                hits=[*first, [other]],
                latency_ms=10.0,
                qa={"hypothesis": "red", "correct": r.question_id != "q2", "llm_calls": 2},
            )
        )
        logs.add_result(QuestionResult.for_record("bm25", r, hits=[[other], [ev]], latency_ms=1.0))
        logs.add_ingest(IngestResult("memsvc", "s", r.haystack_hash(), 2, 4, 2.0, llm_calls=2))
        logs.add_ingest(IngestResult("bm25", "", r.haystack_hash(), 2, 4, 0.01))


def test_report_json_markdown_and_plots(tmp_path: Path) -> None:
    _fill(tmp_path)
    report = write_report(tmp_path)
    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert on_disk["schema"] == SCHEMA == report["schema"]
    assert set(on_disk) >= {"git", "environment", "run", "systems", "ratios", "ks", "created"}
    assert on_disk["run"]["suite"]["name"] == "t"
    mem, bm = on_disk["systems"]["memsvc"], on_disk["systems"]["bm25"]
    assert (mem["kind"], bm["kind"]) == ("memsvc", "baseline")
    # Abstention excluded: 2 questions. memsvc has evidence at rank 1, bm25 at rank 2.
    assert mem["retrieval"]["overall"]["session"]["n"] == 2
    assert mem["retrieval"]["overall"]["session"]["recall_all@1"] == 1.0
    assert bm["retrieval"]["overall"]["session"]["recall_all@1"] == 0.0
    assert bm["retrieval"]["overall"]["session"]["recall_all@3"] == 1.0
    assert mem["retrieval"]["overall"]["turn"]["recall_all@10"] == 1.0
    assert set(mem["retrieval"]["by_type"]) == {"multi-session", "temporal-reasoning"}
    assert mem["latency"]["p50_ms"] == 10.0
    assert mem["ingest"] == {
        "haystacks": 3,
        "turns": 12,
        "seconds": 6.0,
        "turns_per_s": 2.0,
        "llm_calls": 6,
        "llm_calls_per_turn": 0.5,
        "events": {},
    }
    # QA: q1 right, q2 wrong, q3_abs right (as abstention).
    assert mem["qa"]["overall"]["accuracy"] == pytest.approx(2 / 3)
    assert mem["qa"]["abstention"] == {"n": 1, "judged": 1, "accuracy": 1.0}
    assert mem["qa"]["by_type"]["temporal-reasoning"]["accuracy"] == 0.5
    assert bm["qa"] is None
    ratio = on_disk["ratios"]["memsvc"]["bm25"]
    assert ratio["session.recall_all@5"] == 1.0
    assert ratio["session.ndcg_any@10"] == pytest.approx(1.0)  # rank 2 weighs 1 too

    md = (tmp_path / "summary.md").read_text()
    assert md == markdown(on_disk)
    rows = [line for line in md.splitlines() if line.startswith("| memsvc |")]
    assert len(rows) == 2  # the main table and the QA table
    assert rows[0].count("|") == len(HEADLINE) + 7
    assert "| bm25 |" in md and "Ratio memsvc ÷ baseline" in md
    assert "| temporal-reasoning |" in md

    import matplotlib.image as mpimg

    for name in ("recall_at_k.png", "latency.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC)
        img = mpimg.imread(tmp_path / name)
        assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300


def test_errors_are_counted_and_a_retry_replaces_them(tmp_path: Path) -> None:
    _fill(tmp_path)
    logs = RunLogs(tmp_path)
    r = make_record("q4", qtype="multi-session")
    logs.add_result(QuestionResult.for_record("memsvc", r, hits=[], latency_ms=0, error="boom"))
    rep = write_report(tmp_path, plots=False)
    assert rep["systems"]["memsvc"]["errors"] == 1
    assert rep["systems"]["memsvc"]["error_examples"] == ["boom"]
    assert ("memsvc", "q4") not in logs.done()
    logs.add_result(QuestionResult.for_record("memsvc", r, hits=[[("q4_ev", 0)]], latency_ms=1))
    rep = write_report(tmp_path, plots=False)
    assert rep["systems"]["memsvc"]["errors"] == 0
    assert rep["systems"]["memsvc"]["retrieval"]["overall"]["session"]["n"] == 3


def test_torn_last_line_is_ignored_and_repaired(tmp_path: Path) -> None:
    _fill(tmp_path)
    path = tmp_path / "results.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][:20])  # crash mid-write
    logs = RunLogs(tmp_path)
    assert len(logs.results.rows()) == len(lines) - 1
    assert path.read_text().endswith("\n")


def _report(tmp_path: Path, name: str, hit: bool) -> tuple[Path, dict[str, Any]]:
    d = tmp_path / name
    d.mkdir()
    _fill(d, memsvc_hit=hit)
    return d / "report.json", write_report(d, plots=False)


def test_nightly_flags_regressions_beyond_tolerance(tmp_path: Path) -> None:
    good_path, good = _report(tmp_path, "good", True)
    bad_path, bad = _report(tmp_path, "bad", False)  # memsvc never finds the evidence
    flagged = {(c.system, c.metric) for c in compare(bad, good, tolerance=0.02) if c.regression}
    assert flagged == {("memsvc", f"{lv}.{m}") for lv, m in HEADLINE}
    assert not [c for c in compare(good, good, tolerance=0.0) if c.regression]
    assert not [c for c in compare(good, bad, tolerance=0.0) if c.regression]  # improvement
    assert nightly_main([str(good_path), str(good_path)]) == 0
    assert nightly_main([str(bad_path), str(good_path), "--tolerance", "0.02"]) == 1
    assert nightly_main([str(bad_path), str(good_path), "--tolerance", "1.0"]) == 0


def test_nightly_tolerance_edges(tmp_path: Path) -> None:
    _, old = _report(tmp_path, "old", True)
    new = json.loads(json.dumps(old))
    overall = new["systems"]["memsvc"]["retrieval"]["overall"]["session"]
    overall["recall_all@5"] -= 0.015
    assert not [c for c in compare(new, old, tolerance=0.02) if c.regression]
    overall["recall_all@5"] -= 0.01  # now 0.025 below
    bad = [c for c in compare(new, old, tolerance=0.02) if c.regression]
    assert [(c.system, c.metric) for c in bad] == [("memsvc", "session.recall_all@5")]
    del new["systems"]["bm25"]
    assert ("bm25", "system") in {(c.system, c.metric) for c in compare(new, old) if c.regression}
    new = json.loads(json.dumps(old))
    new["systems"]["memsvc"]["latency"]["p95_ms"] = 30.0  # 3x slower
    assert not [c for c in compare(new, old) if c.regression]
    slow = [c for c in compare(new, old, latency_tolerance=0.5) if c.regression]
    assert [c.metric for c in slow] == ["latency.p95_ms"]
    new["systems"]["memsvc"]["qa"]["overall"]["accuracy"] = 0.1
    assert "qa.accuracy" in {c.metric for c in compare(new, old) if c.regression}


def test_nightly_without_previous_report_passes(tmp_path: Path) -> None:
    path, _ = _report(tmp_path, "only", True)
    assert nightly_main([str(path), str(tmp_path / "missing.json")]) == 0


def test_source_hash_follows_every_source_edit(tmp_path: Path) -> None:
    from memsvc_eval.provenance import source_hash

    (tmp_path / "memsvc" / "prompts").mkdir(parents=True)
    (tmp_path / "memsvc" / "a.py").write_text("x = 1\n")
    (tmp_path / "memsvc" / "prompts" / "answer.md").write_text("answer\n")
    first = source_hash(tmp_path)
    (tmp_path / "memsvc" / "notes.txt").write_text("not source")
    assert source_hash(tmp_path) == first
    (tmp_path / "memsvc" / "prompts" / "answer.md").write_text("answer!\n")
    second = source_hash(tmp_path)
    assert second != first
    (tmp_path / "memsvc" / "b.py").write_text("")  # a new, empty, untracked file counts too
    assert source_hash(tmp_path) not in (first, second)
