"""Command line: ``python -m memsvc_eval longmemeval ...`` (also ``memsvc eval longmemeval``).

Subcommands: ``longmemeval`` runs (or resumes) a suite and writes the report (a ``--data``
file in LoCoMo's shape is recognised and run as LoCoMo); ``locomo`` runs a LoCoMo file;
``report`` rebuilds the report of a run folder; ``compare`` is the nightly regression check.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .data import Record, RecordError
from .locomo import default_file as locomo_default_file
from .locomo import is_locomo
from .runner import ConfigMismatch, RunFolderBusy
from .suites import S_TARGET, Suite, default_data_dir, dev_suite, file_suite, locomo_suite
from .system import SystemConfig, merge

SUITES = ("dev", "s-like", "m-like", "as-is")


def parse_set(items: Sequence[str]) -> dict[str, Any]:
    """``["recall.hybrid=false", "llm.model=x"]`` → nested overrides; values are JSON when
    they parse as JSON (numbers, booleans, lists), plain strings otherwise."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects section.key=value, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node: Any = value
        for part in reversed(key.strip().split(".")):
            node = {part: node}
        out = merge(out, node)
    return out


def load_configs(path: Path | None, common_name: str = "memsvc") -> list[SystemConfig]:
    """Named settings-override configurations: a JSON list of {"name", "overrides"}."""
    if path is None:
        return [SystemConfig(common_name)]
    rows = json.loads(path.read_text())
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{path}: expected a non-empty JSON list of {{name, overrides}}")
    configs = [SystemConfig(str(r["name"]), dict(r.get("overrides", {}))) for r in rows]
    names = [c.name for c in configs]
    if len(set(names)) != len(names) or {"bm25", "dense"} & set(names):
        raise ValueError(f"{path}: configuration names must be unique and not bm25/dense")
    return configs


def select(records: list[Record], types: Sequence[str], limit: int | None) -> list[Record]:
    wanted = {t.strip() for group in types for t in group.split(",") if t.strip()}
    known = {r.question_type for r in records}
    unknown = wanted - known
    if unknown:
        raise ValueError(f"unknown question type(s) {sorted(unknown)}; known: {sorted(known)}")
    out = [r for r in records if not wanted or r.question_type in wanted]
    return out[:limit] if limit is not None else out


def make_suite(args: argparse.Namespace) -> Suite:
    if args.command == "locomo" or (args.data and all(is_locomo(p) for p in args.data)):
        return _locomo(args)
    if any(is_locomo(p) for p in args.data):
        raise ValueError("give LoCoMo and LongMemEval files in separate runs")
    kind = args.suite or ("as-is" if args.data else "dev")
    if kind == "dev":
        if args.data:
            raise ValueError(
                "--suite dev reads --data-dir; give --suite s-like|m-like|as-is to use --data files"
            )
        return dev_suite(args.data_dir, seed=args.seed, target=args.target_sessions or S_TARGET)
    if not args.data:
        raise ValueError(f"--suite {kind} needs at least one --data FILE")
    return file_suite(args.data, kind=kind, seed=args.seed, target=args.target_sessions)


def _locomo(args: argparse.Namespace) -> Suite:
    files = args.data or [locomo_default_file()]
    if len(files) != 1:
        raise ValueError("LoCoMo runs take one --data file")
    if args.command == "longmemeval" and args.suite not in (None, "as-is"):
        raise ValueError(f"--suite {args.suite} pads LongMemEval haystacks; not for LoCoMo")
    if not files[0].exists():
        raise FileNotFoundError(f"LoCoMo file not found: {files[0]} (give --data FILE)")
    return locomo_suite(files[0])


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="memsvc_eval", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    lme = sub.add_parser("longmemeval", help="run a LongMemEval suite and write the report")
    lme.add_argument(
        "--data",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="official LongMemEval JSON (oracle, S or M; repeatable), or one LoCoMo file",
    )
    lme.add_argument(
        "--suite",
        choices=SUITES,
        default=None,
        help="dev (default without --data), s-like/m-like (pad --data), as-is",
    )
    lme.add_argument(
        "--data-dir", type=Path, default=None, help=f"dev suite data (default {default_data_dir()})"
    )
    lme.add_argument("--seed", type=int, default=0, help="suite seed")
    lme.add_argument(
        "--target-sessions",
        type=int,
        default=None,
        help="sessions per padded haystack (s-like 50, m-like 500)",
    )
    _run_options(lme)
    loc = sub.add_parser("locomo", help="run a LoCoMo file (conversations between two people)")
    loc.add_argument(
        "--data",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help=f"LoCoMo JSON (default $MEMSVC_LOCOMO_DATA or {locomo_default_file()})",
    )
    _run_options(loc)
    rep = sub.add_parser("report", help="rebuild report.json/summary.md/plots of a run folder")
    rep.add_argument("--out", type=Path, required=True)
    rep.add_argument("--no-plots", action="store_true")
    cmp_ = sub.add_parser("compare", help="nightly check: NEW vs OLD report.json")
    cmp_.add_argument("args", nargs=argparse.REMAINDER)
    return p


def _run_options(lme: argparse.ArgumentParser) -> None:
    """Options shared by the LongMemEval and LoCoMo runs."""
    lme.add_argument("--out", type=Path, required=True, help="run folder (resumable)")
    lme.add_argument("--limit", type=int, default=None, help="first N questions only")
    lme.add_argument(
        "--types",
        action="append",
        default=[],
        help="question types (LoCoMo: categories, e.g. multi-hop), comma-separated",
    )
    lme.add_argument("--workers", type=int, default=1, help="questions in parallel (threads)")
    lme.add_argument("--top-k", type=int, default=10)
    lme.add_argument("--device", default="cpu", help="embedding device: cpu, cuda, cuda:1")
    lme.add_argument("--url", default=None, help="evaluate a running server instead")
    lme.add_argument(
        "--api-key",
        default=os.environ.get("MEMSVC_API_KEY"),
        help="API key for --url (default: $MEMSVC_API_KEY)",
    )
    lme.add_argument("--qa", action="store_true", help="also answer and judge with the LLM")
    lme.add_argument(
        "--set",
        action="append",
        default=[],
        dest="overrides",
        metavar="K=V",
        help="settings override for memsvc, e.g. --set recall.graph_hops=0",
    )
    lme.add_argument(
        "--configs",
        type=Path,
        default=None,
        help="JSON list of {name, overrides}: several memsvc rows in one run",
    )
    lme.add_argument(
        "--ablation",
        action="store_true",
        help="the default configuration and each recall component switched off, in one run",
    )
    lme.add_argument("--baselines", default="bm25,dense", help="comma-separated; '' for none")
    lme.add_argument("--no-memsvc", action="store_true", help="run the baselines only")
    lme.add_argument(
        "--cache",
        type=Path,
        default=Path(".cache/memsvc_eval"),
        help="embedding cache folder (shared across runs)",
    )
    lme.add_argument(
        "--sessions-per-add",
        type=int,
        default=1,
        help="sessions a call: 1 = one add each (default), more = add_many (a backlog)",
    )
    lme.add_argument("--no-progress", action="store_true")
    lme.add_argument("--no-plots", action="store_true")


def _longmemeval(args: argparse.Namespace, argv: list[str]) -> int:
    from .report import write_report
    from .runner import RunOptions, run_suite

    suite = make_suite(args)
    suite = dataclasses.replace(suite, records=select(suite.records, args.types, args.limit))
    if args.url and (args.configs or args.ablation):
        raise ValueError("--configs/--ablation apply settings in-process; not with --url")
    if args.configs and args.ablation:
        raise ValueError("give --configs or --ablation, not both")
    from .ablation import ABLATIONS

    systems = list(ABLATIONS) if args.ablation else load_configs(args.configs)
    opts = RunOptions(
        out_dir=args.out,
        top_k=args.top_k,
        workers=args.workers,
        device=args.device,
        url=args.url,
        api_key=args.api_key,
        qa=args.qa,
        cache_dir=args.cache,
        systems=[] if args.no_memsvc else systems,
        common=parse_set(args.overrides),
        baselines=[b for b in args.baselines.split(",") if b.strip()],
        progress=not args.no_progress,
        argv=argv,
        sessions_per_add=args.sessions_per_add,
    )
    errors = run_suite(suite, opts)
    write_report(args.out, plots=not args.no_plots)
    print((args.out / "summary.md").read_text())
    if errors:
        print(f"{errors} question(s) failed; see results.jsonl (rerun to retry)", file=sys.stderr)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(raw)
    try:
        if args.command in ("longmemeval", "locomo"):
            return _longmemeval(args, raw)
        if args.command == "report":
            from .report import write_report

            if not (args.out / "run.json").exists():
                raise FileNotFoundError(f"{args.out} is not a run folder (no run.json)")
            write_report(args.out, plots=not args.no_plots)
            print((args.out / "summary.md").read_text())
            return 0
        from .nightly import main as compare_main

        return compare_main(args.args)
    except (RecordError, ValueError, FileNotFoundError, ConfigMismatch, RunFolderBusy) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
