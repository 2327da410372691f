"""bench/gpu_ingest.py: how scopes are dealt over ingest processes (every haystack exactly
once, the processes' turn counts close), on the dev suite's real haystacks."""

from __future__ import annotations

from typing import Any

import pytest

from bench.dev_turns import haystacks, shard


def _turns(item: tuple[str, object]) -> int:
    return sum(len(s.turns) for s in item[1].sessions)  # type: ignore[attr-defined]


@pytest.mark.parametrize("n", [1, 2, 3, 8, 16])
def test_shard_keeps_every_haystack_once_and_balances(n: int) -> None:
    stacks = haystacks(None)
    parts = shard(stacks, n)
    assert len(parts) == n
    dealt = [scope for part in parts for scope, _ in part]
    assert sorted(dealt) == sorted(scope for scope, _ in stacks)
    loads = [sum(_turns(item) for item in part) for part in parts]
    # Largest first to the least loaded: no process exceeds another by more than the
    # largest haystack.
    assert max(loads) - min(loads) <= max(_turns(item) for item in stacks)


def test_write_lock_stages_count_each_write_transaction(memory_factory: Any) -> None:
    """`lock_wait` and `lock_held`: one of each per add's write transaction (SQLite)."""
    from bench.measure import Stages, write_lock

    stages = Stages(lambda: None)
    with memory_factory() as mem, write_lock(mem.runtime.db.engine, stages.add):
        for i in range(3):
            msgs = [{"role": "user", "content": f"Note {i}: the lighthouse opens at {i} pm."}]
            mem.add(messages=msgs, user_id="u", wait=True)
    assert stages.calls["lock_held"] == 3
    assert stages.calls["lock_wait"] == 3
    assert stages.seconds["lock_held"] > 0
