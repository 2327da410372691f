"""Runner mechanics with the BM25 baseline (no model load): resume, grouping, config guard,
and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from memsvc_eval.cli import load_configs, main, parse_set, select
from memsvc_eval.data import dump_records
from memsvc_eval.results import load_ingest, load_results
from memsvc_eval.runner import (
    ConfigMismatch,
    RunFolderBusy,
    RunOptions,
    exclusive,
    group_by_haystack,
    run_suite,
)
from memsvc_eval.suites import Suite, build_suite
from memsvc_eval.system import EVAL_DEFAULTS, SystemConfig, build_settings, merge

from .conftest import make_record


def _suite(n: int = 8) -> Suite:
    recs = [
        make_record(f"q{i}", qtype="multi-session" if i % 2 else "temporal-reasoning")
        for i in range(n)
    ]
    return build_suite("t", recs, target=6, seed=1)


def _opts(out: Path, **kw: object) -> RunOptions:
    base: dict[str, object] = {
        "out_dir": out,
        "systems": (),
        "baselines": ("bm25",),
        "progress": False,
        "cache_dir": None,
    }
    base.update(kw)
    return RunOptions(**base)  # type: ignore[arg-type]


def test_run_then_resume_after_a_crash(tmp_path: Path) -> None:
    suite = _suite()
    assert run_suite(suite, _opts(tmp_path)) == 0
    first = {r.question_id: r for r in load_results(tmp_path)}
    assert len(first) == 8 and all(not r.error for r in first.values())
    assert all(r.hits and r.hits[0] for r in first.values())
    # Crash: the last three results never made it, the third-last is torn mid-line.
    path = tmp_path / "results.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:5]) + lines[5][:30])
    assert run_suite(suite, _opts(tmp_path)) == 0
    lines_after = path.read_text().splitlines()
    assert len(lines_after) == 8  # 5 kept + 3 redone, nothing twice
    again = {r.question_id: r for r in load_results(tmp_path)}
    assert {q: r.hits for q, r in again.items()} == {q: r.hits for q, r in first.items()}
    # A complete run folder: the next call has nothing to do.
    assert run_suite(suite, _opts(tmp_path)) == 0
    assert len(path.read_text().splitlines()) == 8


def test_identical_haystacks_share_one_ingest(tmp_path: Path) -> None:
    base = make_record("base")
    twin = make_record("base")
    twin = type(base)(
        "twin",
        "multi-session",
        "Where is my soup?",
        "bowl",
        base.question_date,
        base.sessions,
        base.answer_session_ids,
    )
    suite = build_suite("t", [base, twin, make_record("solo")], target=None, seed=0)
    assert [len(g) for g in group_by_haystack(suite.records)] == [2, 1]
    run_suite(suite, _opts(tmp_path))
    assert len(load_ingest(tmp_path)) == 2
    assert len(load_results(tmp_path)) == 3


def test_another_configuration_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    suite = _suite(2)
    run_suite(suite, _opts(tmp_path))
    with pytest.raises(ConfigMismatch):
        run_suite(suite, _opts(tmp_path, top_k=5))


def test_settings_layering(tmp_path: Path) -> None:
    cfg = SystemConfig("no-graph", {"recall": {"graph_hops": 0}})
    s = build_settings(
        cfg,
        data_dir=tmp_path,
        cache_dir=tmp_path / "c",
        device="cpu",
        common={"recall": {"default_top_k": 7, "graph_hops": 3}, "background": True},
    )
    assert s.recall.graph_hops == 0  # the configuration wins over --set
    assert s.recall.default_top_k == 7
    assert s.background is True  # --set wins over the eval defaults
    assert s.embed.cache_dir == tmp_path / "c" and s.data_dir == tmp_path
    assert EVAL_DEFAULTS["background"] is False
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}


def test_parse_set_and_configs(tmp_path: Path) -> None:
    assert parse_set(["recall.graph_hops=0", "llm.model=openai/x", "decay.enabled=false"]) == {
        "recall": {"graph_hops": 0},
        "llm": {"model": "openai/x"},
        "decay": {"enabled": False},
    }
    with pytest.raises(ValueError, match=r"section\.key=value"):
        parse_set(["oops"])
    p = tmp_path / "c.json"
    p.write_text(json.dumps([{"name": "full"}, {"name": "no-lexical", "overrides": {"a": 1}}]))
    assert [c.name for c in load_configs(p)] == ["full", "no-lexical"]
    p.write_text(json.dumps([{"name": "bm25"}]))
    with pytest.raises(ValueError, match="unique and not bm25"):
        load_configs(p)


def test_select_types_and_limit() -> None:
    recs = list(_suite().records)
    assert len(select(recs, ["multi-session"], None)) == 4
    assert [r.question_id for r in select(recs, [], 3)] == ["q0", "q1", "q2"]
    assert len(select(recs, ["multi-session,temporal-reasoning"], 5)) == 5
    with pytest.raises(ValueError, match="unknown question type"):
        select(recs, ["nope"], None)


def test_cli_runs_a_file_suite_and_rebuilds_the_report(tmp_path: Path) -> None:
    data = tmp_path / "mini.json"
    dump_records([make_record(f"c{i}", qtype="knowledge-update") for i in range(4)], data)
    out = tmp_path / "run"
    argv = [
        "longmemeval",
        "--data",
        str(data),
        "--suite",
        "s-like",
        "--target-sessions",
        "5",
        "--out",
        str(out),
        "--baselines",
        "bm25",
        "--no-memsvc",
        "--no-progress",
        "--no-plots",
        "--limit",
        "3",
    ]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert list(report["systems"]) == ["bm25"]
    assert report["run"]["suite"]["questions"] == 3
    assert report["run"]["sessions"][0]["argv"] == argv
    assert report["systems"]["bm25"]["retrieval"]["overall"]["session"]["n"] == 3
    (out / "summary.md").unlink()
    assert main(["report", "--out", str(out), "--no-plots"]) == 0
    md = (out / "summary.md").read_text().splitlines()
    assert len([line for line in md if line.startswith("| bm25 | ")]) == 1
    assert main(["compare", str(out / "report.json"), str(out / "report.json")]) == 0
    assert main(["report", "--out", str(tmp_path / "missing")]) == 2


def test_cli_error_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    assert main(["longmemeval", "--data", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert main(["longmemeval", "--suite", "dev", "--data", str(bad), "--out", "x"]) == 2


def test_the_ablation_set_is_valid_and_shares_stores_where_it_can(tmp_path: Path) -> None:
    from memsvc_eval.ablation import ABLATIONS
    from memsvc_eval.system import ingest_key

    names = [c.name for c in ABLATIONS]
    assert names[0] == "memsvc" and len(set(names)) == len(names)
    keys = {
        c.name: ingest_key(
            build_settings(c, data_dir=tmp_path / c.name, cache_dir=None, device="cpu")
        )
        for c in ABLATIONS
    }
    search_only = {n for n, k in keys.items() if k == keys["memsvc"]}
    assert {"no-lexical", "no-parts", "no-graph", "no-decay", "no-time"} <= search_only
    assert {"turn-granularity", "session-granularity", "no-key-expansion", "dense-only"}.isdisjoint(
        search_only
    )
    # The default row is the defaults: nothing overridden.
    assert ABLATIONS[0].overrides == {}


def test_ablation_flag_conflicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps([{"name": "x", "overrides": {}}]))
    data = tmp_path / "d.json"
    dump_records([make_record("q1")], data)
    args = ["longmemeval", "--data", str(data), "--out", str(tmp_path / "o")]
    assert main([*args, "--ablation", "--configs", str(cfg)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main([*args, "--ablation", "--url", "http://127.0.0.1:1"]) == 2
    assert "not with --url" in capsys.readouterr().err
    assert not (tmp_path / "o" / "results.jsonl").exists()


def test_a_second_run_into_a_busy_folder_is_refused(tmp_path: Path) -> None:
    """Two processes on one run folder would share its stores and logs; the second is
    refused before it touches anything, and the first one's folder stays as it was."""
    suite = _suite(4)
    with exclusive(tmp_path):
        with pytest.raises(RunFolderBusy, match=f"pid {os.getpid()}"):
            run_suite(suite, _opts(tmp_path))
        assert not (tmp_path / "results.jsonl").exists()
        assert not (tmp_path / "run.json").exists()
    assert run_suite(suite, _opts(tmp_path)) == 0  # free again once the holder is done
    assert len(load_results(tmp_path)) == 4


def test_a_killed_run_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from memsvc_eval.runner import exclusive\n"
            "with exclusive(Path(sys.argv[1])):\n"
            "    print('held', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderBusy, match=f"pid {holder.pid}"):
            run_suite(_suite(2), _opts(tmp_path))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert run_suite(_suite(2), _opts(tmp_path)) == 0


def test_cli_says_the_folder_is_busy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.json"
    dump_records([make_record("q0", qtype="knowledge-update")], data)
    out = tmp_path / "run"
    argv = ["longmemeval", "--data", str(data), "--suite", "s-like", "--target-sessions", "5"]
    argv += ["--out", str(out), "--baselines", "bm25", "--no-memsvc", "--no-progress"]
    with exclusive(out):
        code = main([*argv, "--no-plots"])
    assert code == 2
    assert "in use by a run in progress" in capsys.readouterr().err
