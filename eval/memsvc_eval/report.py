"""The report: every number as JSON, a Markdown summary, and PNG plots.

Computed only from the run folder's logs (results.jsonl, ingest.jsonl, run.json), so a
report can be rebuilt at any time with ``python -m memsvc_eval report --out DIR``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections import defaultdict
from pathlib import Path
from typing import Any

from .metrics import KS, LEVELS, accuracy, aggregate, latency_summary, question_metrics
from .provenance import git_info
from .results import IngestResult, QuestionResult, load_ingest, load_results, write_json_atomic
from .runner import BASELINES, run_meta

SCHEMA = "memsvc-eval/longmemeval/v1"
REPORT_JSON, SUMMARY_MD = "report.json", "summary.md"
# The headline numbers: what the summary table shows, ratios compare and nightly guards.
HEADLINE: tuple[tuple[str, str], ...] = (
    ("session", "recall_any@5"),
    ("session", "recall_all@5"),
    ("session", "recall_all@10"),
    ("session", "ndcg_any@10"),
    ("turn", "recall_all@10"),
    ("turn", "ndcg_any@10"),
)


def environment() -> dict[str, Any]:
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    try:
        from importlib.metadata import version

        env["memsvc"] = version("memsvc")
    except Exception:
        env["memsvc"] = None
    try:
        import torch

        env["torch"] = torch.__version__
        env["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:  # pragma: no cover - torch is a dependency of memsvc
        pass
    return env


def system_summary(
    results: list[QuestionResult], ingest: list[IngestResult], kind: str
) -> dict[str, Any]:
    ok = [r for r in results if not r.error]
    per_q = []
    for r in ok:
        ev: dict[str, set[object]] = {
            "session": set(r.evidence_sessions),
            "turn": {(s, i) for s, i in r.evidence_turns},
        }
        per_q.append(
            (
                r.question_type,
                r.abstention,
                {lv: question_metrics(r.hits, ev[lv], lv, KS) for lv in LEVELS},
            )
        )
    turns = sum(i.turns for i in ingest)
    seconds = sum(i.seconds for i in ingest)
    calls = sum(i.llm_calls for i in ingest)
    events: dict[str, int] = defaultdict(int)
    for i in ingest:
        for name, n in i.events.items():
            events[name] += n
    out: dict[str, Any] = {
        "kind": kind,
        "questions": len(results),
        "errors": len(results) - len(ok),
        "error_examples": sorted({r.error for r in results if r.error})[:3],
        "retrieval": aggregate(per_q),
        "latency": latency_summary([r.latency_ms for r in ok]),
        "ingest": {
            "haystacks": len(ingest),
            "turns": turns,
            "seconds": seconds,
            "turns_per_s": turns / seconds if seconds > 0 else None,
            "llm_calls": calls,
            "llm_calls_per_turn": calls / turns if turns else None,
            "events": dict(events),
        },
        "qa": qa_summary(ok),
    }
    return out


def qa_summary(results: list[QuestionResult]) -> dict[str, Any] | None:
    judged = [r for r in results if r.qa is not None]
    if not judged:
        return None
    by_type: dict[str, list[bool | None]] = defaultdict(list)
    for r in judged:
        assert r.qa is not None
        by_type[r.question_type].append(r.qa.get("correct"))
    qa = [r.qa for r in judged if r.qa is not None]
    return {
        "overall": accuracy(q.get("correct") for q in qa),
        "by_type": {t: accuracy(v) for t, v in sorted(by_type.items())},
        "abstention": accuracy(r.qa.get("correct") for r in judged if r.abstention and r.qa),
        "non_abstention": accuracy(
            r.qa.get("correct") for r in judged if not r.abstention and r.qa
        ),
        "llm_calls": sum(int(q.get("llm_calls", 0)) for q in qa),
    }


def headline(summary: dict[str, Any]) -> dict[str, float | None]:
    overall = summary["retrieval"]["overall"]
    return {f"{lv}.{m}": overall[lv].get(m) for lv, m in HEADLINE}


def ratios(systems: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, float | None]]]:
    """memsvc ÷ baseline for each headline metric (None where the baseline scores 0)."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for name, s in systems.items():
        if s["kind"] != "memsvc":
            continue
        mine = headline(s)
        out[name] = {}
        for b, bs in systems.items():
            if bs["kind"] != "baseline":
                continue
            theirs = headline(bs)
            row: dict[str, float | None] = {}
            for k, v in mine.items():
                t = theirs[k]
                row[k] = v / t if v is not None and t else None
            out[name][b] = row
    return out


def build_report(out_dir: Path) -> dict[str, Any]:
    results = load_results(out_dir)
    ingest = load_ingest(out_dir)
    meta = run_meta(out_dir)
    names = list(dict.fromkeys(r.system for r in results))
    systems = {
        n: system_summary(
            [r for r in results if r.system == n],
            [i for i in ingest if i.system == n],
            "baseline" if n in BASELINES else "memsvc",
        )
        for n in names
    }
    return {
        "schema": SCHEMA,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": git_info(),
        "environment": environment(),
        "run": meta,
        "ks": list(KS),
        "systems": systems,
        "ratios": ratios(systems),
    }


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def markdown(report: dict[str, Any]) -> str:
    run = report.get("run", {})
    suite = run.get("suite", {})
    rev = report["git"].get("revision") or "unknown"
    dirty = " (dirty)" if report["git"].get("dirty") else ""
    title = {"locomo": "LoCoMo"}.get(suite.get("dataset", ""), "LongMemEval")
    lines = [
        f"# {title} — suite `{suite.get('name', '?')}`",
        "",
        f"{suite.get('questions', '?')} questions, "
        f"{_fmt(suite.get('sessions_per_question', {}).get('mean'), 1)} sessions per haystack, "
        f"seed {suite.get('seed', '?')}, top_k {run.get('fingerprint', {}).get('top_k', '?')}; "
        f"git `{rev[:12]}`{dirty}, source `{(report['git'].get('source_sha256') or '?')[:12]}`; "
        f"{report['created']}.",
        "",
        "Retrieval over non-abstention questions (S = session level, T = turn level).",
        "",
    ]
    cols = [f"{'S' if lv == 'session' else 'T'} {m}" for lv, m in HEADLINE]
    lines.append(
        "| system | " + " | ".join(cols) + " | p50 ms | p95 ms | ingest turns/s "
        "| LLM calls/turn | errors |"
    )
    lines.append("|---" * (len(cols) + 6) + "|")
    for name, s in report["systems"].items():
        h = headline(s)
        lat, ing = s["latency"], s["ingest"]
        lines.append(
            f"| {name} | "
            + " | ".join(_fmt(v) for v in h.values())
            + f" | {_fmt(lat['p50_ms'], 1)} | {_fmt(lat['p95_ms'], 1)} "
            f"| {_fmt(ing['turns_per_s'], 0)} | {_fmt(ing['llm_calls_per_turn'], 2)} "
            f"| {s['errors']} |"
        )
    for name, by_base in report["ratios"].items():
        lines += ["", f"Ratio {name} ÷ baseline:", ""]
        lines.append("| baseline | " + " | ".join(cols) + " |")
        lines.append("|---" * (len(cols) + 1) + "|")
        for b, r in by_base.items():
            lines.append(f"| {b} | " + " | ".join(_fmt(v, 2) for v in r.values()) + " |")
    what = "category" if suite.get("dataset") == "locomo" else "question type"
    lines += ["", f"Per {what} (session recall_all@5 / @10, turn recall_all@10, n):", ""]
    types = sorted({t for s in report["systems"].values() for t in s["retrieval"]["by_type"]})
    names = list(report["systems"])
    lines.append("| type | " + " | ".join(names) + " |")
    lines.append("|---" * (len(names) + 1) + "|")
    for t in types:
        cells = []
        for n in names:
            bt = report["systems"][n]["retrieval"]["by_type"].get(t)
            if not bt:
                cells.append("–")
                continue
            ss, tt = bt["session"], bt["turn"]
            cells.append(
                f"{_fmt(ss.get('recall_all@5'), 2)} / {_fmt(ss.get('recall_all@10'), 2)} / "
                f"{_fmt(tt.get('recall_all@10'), 2)} ({ss['n']})"
            )
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    qa_rows = [(n, s["qa"]) for n, s in report["systems"].items() if s.get("qa")]
    if qa_rows:
        lines += ["", "QA accuracy (LLM judge, LongMemEval prompts):", ""]
        lines.append(
            "| system | overall | non-abstention | abstention | " + " | ".join(types) + " |"
        )
        lines.append("|---" * (len(types) + 4) + "|")
        for n, qa in qa_rows:
            per = [_fmt((qa["by_type"].get(t) or {}).get("accuracy"), 2) for t in types]
            acc = [qa[key]["accuracy"] for key in ("overall", "non_abstention", "abstention")]
            lines.append(f"| {n} | " + " | ".join(_fmt(v) for v in [*acc, *per]) + " |")
    lines += ablation_lines(report, types)
    lines += ["", "Plots: `recall_at_k.png`, `latency.png`. Definitions: eval/README.md.", ""]
    return "\n".join(lines)


ABLATION_COLS: tuple[tuple[str, str], ...] = (
    ("session", "recall_all@5"),
    ("session", "recall_all@10"),
    ("turn", "recall_all@5"),
    ("turn", "recall_all@10"),
    ("session", "ndcg_any@10"),
    ("turn", "ndcg_any@10"),
)


def ablation_lines(report: dict[str, Any], types: list[str]) -> list[str]:
    """With several memsvc configurations: one row each, then session nDCG@10 per type."""
    rows = {n: s for n, s in report["systems"].items() if s.get("kind") == "memsvc"}
    if len(rows) < 2:
        return []
    cols = [f"{'S' if lv == 'session' else 'T'} {m}" for lv, m in ABLATION_COLS]
    lines = ["", "Ablation (memsvc configurations on the same haystacks):", ""]
    lines.append("| configuration | " + " | ".join(cols) + " | p50 ms | p95 ms |")
    lines.append("|---" * (len(cols) + 3) + "|")
    for name, s in rows.items():
        overall = s["retrieval"]["overall"]
        cells = [_fmt(overall[lv].get(m)) for lv, m in ABLATION_COLS]
        lat = s["latency"]
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {_fmt(lat['p50_ms'], 1)} | {_fmt(lat['p95_ms'], 1)} |"
        )
    lines += ["", "Ablation, session nDCG@10 / turn nDCG@10 per question type:", ""]
    lines.append("| configuration | " + " | ".join(types) + " |")
    lines.append("|---" * (len(types) + 1) + "|")
    for name, s in rows.items():
        cells = []
        for t in types:
            bt = s["retrieval"]["by_type"].get(t)
            if not bt:
                cells.append("–")
                continue
            s_ndcg, t_ndcg = bt["session"].get("ndcg_any@10"), bt["turn"].get("ndcg_any@10")
            cells.append(f"{_fmt(s_ndcg, 2)} / {_fmt(t_ndcg, 2)}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def write_report(out_dir: Path, *, plots: bool = True) -> dict[str, Any]:
    """Build the report from the run folder and write report.json, summary.md and PNGs."""
    report = build_report(out_dir)
    write_json_atomic(out_dir / REPORT_JSON, report)
    tmp = out_dir / (SUMMARY_MD + ".tmp")
    tmp.write_text(markdown(report))
    os.replace(tmp, out_dir / SUMMARY_MD)
    if plots:
        from .plots import write_plots

        write_plots(report, load_results(out_dir), out_dir)
    return report
