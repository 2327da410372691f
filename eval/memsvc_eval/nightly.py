"""Compare two report.json files; exit 1 when the new one regressed beyond a tolerance.

Quality metrics (the headline retrieval numbers, QA accuracy) regress when they fall by
more than ``tolerance`` (absolute). Latency is compared only when ``latency_tolerance``
is given (relative increase), since nightly machines vary. A system present in the old
report but missing from the new one, or new errors, count as regressions too.

    python -m memsvc_eval.nightly NEW/report.json OLD/report.json --tolerance 0.02
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .report import headline


@dataclass(frozen=True)
class Change:
    system: str
    metric: str
    old: float | None
    new: float | None
    regression: bool

    def line(self) -> str:
        def f(v: float | None) -> str:
            return "missing" if v is None else f"{v:.4f}"

        delta = "" if self.old is None or self.new is None else f" ({self.new - self.old:+.4f})"
        flag = "REGRESSION" if self.regression else "ok"
        return f"{flag:10} {self.system:14} {self.metric:28} {f(self.old)} -> {f(self.new)}{delta}"


def _quality(summary: dict[str, Any]) -> dict[str, float | None]:
    vals = dict(headline(summary))
    qa = summary.get("qa")
    if qa:
        vals["qa.accuracy"] = qa["overall"].get("accuracy")
    return vals


def compare(
    new: dict[str, Any],
    old: dict[str, Any],
    *,
    tolerance: float = 0.02,
    latency_tolerance: float | None = None,
) -> list[Change]:
    """Every compared number, flagged where the new report is worse beyond tolerance."""
    changes: list[Change] = []
    for name, old_sys in old["systems"].items():
        new_sys = new["systems"].get(name)
        if new_sys is None:
            changes.append(Change(name, "system", None, None, True))
            continue
        nq, oq = _quality(new_sys), _quality(old_sys)
        for metric, ov in oq.items():
            nv = nq.get(metric)
            if ov is None:
                continue
            worse = nv is None or nv < ov - tolerance
            changes.append(Change(name, metric, ov, nv, worse))
        oe, ne = old_sys.get("errors", 0), new_sys.get("errors", 0)
        changes.append(Change(name, "errors", float(oe), float(ne), ne > oe))
        if latency_tolerance is not None:
            for key in ("p50_ms", "p95_ms"):
                ov, nv = old_sys["latency"].get(key), new_sys["latency"].get(key)
                if ov is None or nv is None:
                    continue
                changes.append(
                    Change(name, f"latency.{key}", ov, nv, nv > ov * (1 + latency_tolerance))
                )
    return changes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="memsvc_eval.nightly", description=__doc__.split("\n")[0])
    p.add_argument("new", type=Path, help="report.json of the new run")
    p.add_argument("old", type=Path, help="report.json to compare against")
    p.add_argument("--tolerance", type=float, default=0.02, help="absolute drop allowed")
    p.add_argument(
        "--latency-tolerance",
        type=float,
        default=None,
        help="relative p50/p95 increase allowed (default: latency not compared)",
    )
    args = p.parse_args(argv)
    if not args.old.exists():
        print(f"no previous report at {args.old}: nothing to compare, passing")
        return 0
    new, old = (json.loads(x.read_text()) for x in (args.new, args.old))
    if new.get("run", {}).get("fingerprint", {}).get("suite") != old.get("run", {}).get(
        "fingerprint", {}
    ).get("suite"):
        print("warning: the two reports come from different suites", file=sys.stderr)
    changes = compare(new, old, tolerance=args.tolerance, latency_tolerance=args.latency_tolerance)
    for c in changes:
        print(c.line())
    bad = [c for c in changes if c.regression]
    rev = (old.get("git") or {}).get("revision") or "?"
    print(
        f"{len(bad)} regression(s) beyond tolerance {args.tolerance} vs {rev[:12]}"
        if bad
        else f"no regression beyond tolerance {args.tolerance} vs {rev[:12]}"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
