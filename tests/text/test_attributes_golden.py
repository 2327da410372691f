"""Offline attributes pinned on real text: every field of `compute(request)` equals what the
golden file recorded, for every request in it.

The requests are the LongMemEval data shipped in the repo (`eval/data/longmemeval/*.json`),
made the way ingest makes them: each session is one add, turned into units by
`memsvc.services.units.make_units` at both granularities ("turn": one message with its role
and the message before it; "round", the default: a user turn joined with the assistant's
replies), then `(content, role, previous, method)` as `planning.add_offline_attributes`
sends them. Distinct requests only, keyed as the attribute memo keys them (the previous
message counts for an assistant reply alone). Every request with the built-in keyphrase
extractor; with YAKE (the other `ingest.keyphrases` setting, ~30 ms a text) a deterministic
twelfth of them, chosen by a hash of the request. LoCoMo stays out: its licence forbids
committing data derived from it.

The file (`data/attributes-golden.json.xz`) holds the requests too, so this test needs
nothing else. It pins outputs, not their quality: when a change to the heuristics is meant
to change attributes, regenerate it and review the diff of what changed:

    HF_HUB_OFFLINE=1 .venv/bin/python -m tests.text.test_attributes_golden --write

(`--diff` instead of `--write` prints the requests whose attributes differ, and writes
nothing). `bench/attributes.py` times the same requests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from memsvc.text.attributes import Request, compute

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("data") / "attributes-golden.json.xz"
SOURCES = sorted((ROOT / "eval" / "data" / "longmemeval").glob("*.json"))
FIELDS = ("keywords", "tags", "context", "facts", "slots")
YAKE_SHARE = 12  # one request in this many is also computed with YAKE


def _sessions() -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = []
    for path in SOURCES:
        data = json.loads(path.read_text(encoding="utf-8"))
        for record in data if isinstance(data, list) else [data]:
            out.extend(record["haystack_sessions"])
    return out


def _canonical(content: str, role: str | None, previous: str | None) -> tuple[Any, ...]:
    # As AttributeWorkers' memo: the previous message only shapes an assistant reply.
    return (content, role, previous if role == "assistant" else None)


def build_requests() -> list[Request]:
    """The distinct requests ingest makes of the shipped LongMemEval sessions, in order."""
    from memsvc.db.models import Episode
    from memsvc.services.units import make_units

    t0 = datetime(2023, 5, 1, tzinfo=UTC)
    seen: set[tuple[Any, ...]] = set()
    base: list[tuple[str, str | None, str | None]] = []
    for session in _sessions():
        episodes = [
            Episode(id=f"e{i}", role=t["role"], name=None, content=t["content"], event_time=t0)
            for i, t in enumerate(session)
        ]
        for granularity in ("turn", "round"):
            for u in make_units(episodes, "turn", granularity, True):
                key = _canonical(u.content, u.role, u.previous)
                if key not in seen:
                    seen.add(key)
                    base.append((u.content, u.role, u.previous))
    reqs: list[Request] = [(c, r, p, "builtin") for c, r, p in base]
    for c, r, p in base:
        digest = hashlib.sha256(repr(_canonical(c, r, p)).encode()).digest()
        if int.from_bytes(digest[:4], "big") % YAKE_SHARE == 0:
            reqs.append((c, r, p, "yake"))
    return reqs


def _encode(reqs: list[Request]) -> dict[str, Any]:
    """Texts stored once (a round repeats its turns, a reply's previous is a turn): each case
    is [content index, role, previous index or null, method, keywords, tags, context, facts,
    slots]."""
    texts: dict[str, int] = {}
    cases: list[list[Any]] = []
    for req in reqs:
        content, role, previous, method = req
        a = asdict(compute(req))
        ci = texts.setdefault(content, len(texts))
        pi = None if previous is None else texts.setdefault(previous, len(texts))
        cases.append([ci, role, pi, method, *(a[f] for f in FIELDS)])
    return {"version": 1, "texts": list(texts), "cases": cases}


def load() -> list[tuple[Request, dict[str, Any]]]:
    """(request, expected attributes as a dict) for every golden case."""
    with lzma.open(GOLDEN, "rt", encoding="utf-8") as f:
        data = json.load(f)
    texts = data["texts"]
    out: list[tuple[Request, dict[str, Any]]] = []
    for ci, role, pi, method, *values in data["cases"]:
        req: Request = (texts[ci], role, None if pi is None else texts[pi], method)
        out.append((req, dict(zip(FIELDS, values, strict=True))))
    return out


def write() -> None:
    data = _encode(build_requests())
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    tmp = GOLDEN.with_suffix(".tmp")
    with lzma.open(tmp, "wt", encoding="utf-8", preset=9 | lzma.PRESET_EXTREME) as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
    os.replace(tmp, GOLDEN)
    print(f"{len(data['cases'])} cases, {len(data['texts'])} texts -> {GOLDEN}")


def differences() -> list[tuple[Request, str, Any, Any]]:
    out: list[tuple[Request, str, Any, Any]] = []
    for req, expected in load():
        got = asdict(compute(req))
        out.extend((req, f, expected[f], got[f]) for f in FIELDS if got[f] != expected[f])
    return out


@pytest.mark.skipif(not GOLDEN.exists(), reason=f"{GOLDEN} missing")
def test_attributes_equal_the_golden_file() -> None:
    cases = load()
    assert len(cases) >= 3000
    assert {req[3] for req, _ in cases} == {"builtin", "yake"}
    wrong = differences()
    shown = "\n".join(
        f"{r[0][:60]!r} {r[1]} {r[3]}: {f}: {e!r} != {g!r}" for r, f, e, g in wrong[:5]
    )
    assert not wrong, f"{len(wrong)} fields differ, first:\n{shown}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="recompute and write the file")
    group.add_argument("--diff", action="store_true", help="print the fields that differ")
    args = parser.parse_args()
    if args.write:
        write()
        return
    for req, f, expected, got in differences():
        print(f"{req[1]} {req[3]} {req[0][:80]!r}\n  {f}: {expected!r}\n  -> {got!r}")


if __name__ == "__main__":
    main()
