"""Print and save the memory-operations suite's per-class table.

    HF_HUB_OFFLINE=1 .venv/bin/python -m tests.ops.report --label after

Modes: ``offline`` (no LLM), ``llm-labelled`` (the fixture LLM server answers each memorize
call with the labelled operation) and ``llm-eager`` (the fixture merges every note into its
nearest candidate). Each mode runs on a fresh SQLite store in a temporary folder; the table
goes to stdout and to ``tests/ops/results/<label>.md``, the failing cases after it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from memsvc.config import Settings
from memsvc.embed import load_embedder
from tests.ops.suite import (
    Case,
    Decider,
    Outcome,
    bulk_notes,
    eager_model,
    format_table,
    labelled_model,
    load_cases,
    memory,
    run_suite,
    settings_for,
    table,
)
from tests.support.llm_defaults import default_memorize, memorize_request
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import Action, ChatRequest, FixtureLLMServer, Reply, prompt

RESULTS = Path(__file__).with_name("results")
MODELS = {"llm-labelled": labelled_model, "llm-eager": eager_model}


def scripted(decider: Decider) -> Action:
    def action(request: ChatRequest) -> Reply:
        result = default_memorize(request)
        notes, memories = memorize_request(request)
        by_handle = {m["handle"]: m for m in memories}
        for note, decision in zip(notes, result["notes"], strict=True):
            shown = [by_handle[h] for h in note.get("candidates", []) if h in by_handle]
            op = decider(note, shown)
            if op is not None:
                decision["operation"] = op
        return Reply(content=json.dumps(result))

    return action


def run_mode(mode: str, cases: list[Case], bulk: bool) -> tuple[list[Outcome], str]:
    embedder = load_embedder(Settings().embed)
    with tempfile.TemporaryDirectory() as tmp:
        extra = ""
        if mode == "offline":
            with memory(settings_for(Path(tmp)), embedder) as mem:
                outcomes = run_suite(mem, cases)
                if bulk:
                    sent, active = bulk_notes(mem)
                    extra = f"bulk: {sent} distinct numbered notes sent, {active} active notes"
            return outcomes, extra
        with FixtureLLMServer() as server:
            server.add(prompt("memorize"), scripted(MODELS[mode](cases)))
            # Generous timeouts: a slow, shared machine must not send calls down the offline path.
            llm = llm_settings(server, batch_size=16, timeout_s=30.0, wait_bound_s=None)
            llm = llm.model_dump()
            with memory(settings_for(Path(tmp), llm=llm), embedder) as mem:
                return run_suite(mem, cases), extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="current")
    parser.add_argument("--modes", default="offline,llm-labelled,llm-eager")
    parser.add_argument("--bulk", action="store_true", help="also the 220-note stress case")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cases = load_cases()
    out = [f"# Memory-operations suite: {args.label} ({len(cases)} cases)", ""]
    for mode in args.modes.split(","):
        started = time.perf_counter()
        outcomes, extra = run_mode(mode, cases, args.bulk)
        took = time.perf_counter() - started
        out.append(format_table(f"{mode} ({took:.0f} s)", table(outcomes)))
        if extra:
            out.append(f"\n{extra}")
        failed = [o for o in outcomes if not o.passed]
        if failed:
            out.append("\nfailing cases:")
            for o in failed:
                why = []
                if not o.op_ok:
                    why.append(f"op {o.op}, expected {'/'.join(o.case.expect)}")
                if o.newest_ok is False:
                    why.append(f"older value first for {o.case.query!r}")
                if o.lost:
                    why.append("lost " + "; ".join(o.lost))
                out.append(f"- {o.case.id}: " + ", ".join(why))
        out.append("")
    text = "\n".join(out)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.label}.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
