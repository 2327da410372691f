"""Real chat turns for the data-driven tests (skipped when the shared data is absent)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / "eval" / "data"
ORACLE = DATA / "longmemeval" / "longmemeval_oracle_sample97_seed42.json"
MEMORYBANK_CN = DATA / "memorybank" / "memory_bank_cn.json"


@cache
def _records() -> list[dict[str, Any]]:
    return list(json.loads(ORACLE.read_text(encoding="utf-8")))


def longmemeval_records() -> list[dict[str, Any]]:
    if not ORACLE.exists():
        pytest.skip(f"{ORACLE} not available")
    return _records()


def longmemeval_turns() -> list[dict[str, Any]]:
    """Every turn of every haystack session, in file order."""
    return [t for r in longmemeval_records() for s in r["haystack_sessions"] for t in s]


def chinese_texts(limit: int = 200) -> list[str]:
    if not MEMORYBANK_CN.exists():
        pytest.skip(f"{MEMORYBANK_CN} not available")
    data = json.loads(MEMORYBANK_CN.read_text(encoding="utf-8"))
    out: list[str] = []
    for user in data.values():
        for conv in user.get("history", {}).values():
            for turn in conv:
                out.extend([turn.get("query", ""), turn.get("response", "")])
    return out[:limit]
