"""A probe, not part of the harness: search-only configurations (`recall.*`, `decay.*`) over
the store a finished eval run left, without ingesting again, written as results.jsonl rows
that eval/probes/compare_hits.py reads. The harness does the same within one run (rows that
differ only in search settings share a store); this reuses a store across runs.

    PYTHONPATH=.:eval python eval/probes/search_only.py locomo|lme RUN SYSTEM OUT CONFIGS [TOP_K]

TOP_K (default 10, the harness's) deeper shows where missed evidence ranks.

Caveat: the lexical ranking's mean note length spans the store (every other statistic is the
scope's own since revision 0013), and retention moves with the partition clock, so a store
read after other conversations were ingested can rank a few questions differently than the
run did.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from memsvc_eval.locomo import default_file, load_locomo
from memsvc_eval.scopes import ScopeStore, scope_id
from memsvc_eval.suites import dev_suite
from memsvc_eval.system import SystemConfig, build_settings, utc

from memsvc import Memory

CACHE = Path(".cache/memsvc_eval/embed")


def main(
    suite: str,
    run: Path,
    system: str,
    out: Path,
    configs: list[dict[str, Any]],
    top_k: int = 10,
) -> None:
    records = load_locomo(default_file())[0] if suite == "locomo" else dev_suite(None).records

    def settings(name: str, overrides: dict[str, Any]) -> Any:
        data = run / "data" / system
        return build_settings(
            SystemConfig(name, overrides), data_dir=data, cache_dir=CACHE, device="cpu"
        )

    base = Memory(settings(system, {}))
    store = ScopeStore(run / "scopes")
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("a") as f:
        for cfg in configs:
            view = base.search_view(settings(cfg["name"], cfg.get("overrides", {})))
            t0 = time.perf_counter()
            for r in records:
                eps = store.load(system, r.haystack_hash())
                if eps is None:  # not ingested (a run stopped early)
                    continue
                res = view.search(
                    r.question,
                    user_id=scope_id(system, r.haystack_hash()),
                    top_k=top_k,
                    as_of=utc(r.as_of),
                    reinforce=False,
                )
                row = {
                    "system": cfg["name"],
                    "question_id": r.question_id,
                    "question_type": r.question_type,
                    "abstention": r.is_abstention,
                    "hits": [
                        [list(eps[e]) for e in h.episode_ids if e in eps] for h in res.results
                    ],
                    "evidence_sessions": sorted(r.evidence_sessions),
                    "evidence_turns": sorted(list(t) for t in r.evidence_turns),
                    "error": None,
                }
                f.write(json.dumps(row) + "\n")
            print(cfg["name"], f"{time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    suite, run, system, out, path = sys.argv[1:6]
    top_k = int(sys.argv[6]) if len(sys.argv) > 6 else 10
    main(suite, Path(run), system, Path(out), json.loads(Path(path).read_text()), top_k)
