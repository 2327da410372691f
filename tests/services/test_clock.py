"""One clock for decay: searches without `as_of`, reinforcement and the sweep all read time
from the partition's clock (its latest event or recall), so replayed history behaves as lived."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from memsvc import Memory
from memsvc.services.scope import Scope
from memsvc.stores import clock

T0 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=45)


def _clock(mem: Memory, user: str) -> datetime | None:
    with mem.runtime.db.read() as session:
        return clock.read(session, Scope("default", user).partition)


def test_replayed_history_is_not_read_at_the_wall_clock(mem: Memory) -> None:
    old = mem.add("I keep my passport in the blue folder.", user_id="u", timestamp=T0, infer=False)
    mem.add("I started pottery classes.", user_id="u", timestamp=LATER, infer=False)
    assert _clock(mem, "u") == LATER
    hit = mem.search("where is my passport?", user_id="u", explain=True, top_k=1).results[0]
    assert hit.id == old.results[0].id
    scale = mem.settings.decay.time_scale_days
    expected = math.exp(-(LATER - T0).total_seconds() / 86_400 / scale)  # S = 1, t = 45 days
    # At the wall clock (years later) it would be ~0; at the partition's clock it is exp(-1.5).
    assert (hit.explain or {})["retention"] == pytest.approx(expected, abs=1e-6)


def test_search_and_sweep_share_the_clock(mem: Memory) -> None:
    faded = mem.add("I once owned a red kite.", user_id="u", timestamp=T0, infer=False)
    mem.add("I bought a new laptop.", user_id="u", timestamp=T0 + timedelta(days=200), infer=False)
    hits = mem.search("red kite", user_id="u", explain=True, reinforce=False).results
    r = next(h for h in hits if h.id == faded.results[0].id).explain or {}
    assert r["retention"] < mem.settings.decay.threshold
    assert mem.sweep().forgotten == 1  # the same clock forgets exactly what searches see faded
    assert mem.get(faded.results[0].id or "", user_id="u").status == "forgotten"


def test_reinforcement_happens_at_the_partition_clock(mem: Memory) -> None:
    note = mem.add("My dentist is Dr. Okafor.", user_id="u", timestamp=T0, infer=False).results[0]
    mem.add("I like hiking.", user_id="u", timestamp=LATER, infer=False)
    fresh = mem.get(note.id or "", user_id="u")
    assert fresh.recall_count == 0 and fresh.last_recalled_at is None  # never recalled yet
    assert mem.search("who is my dentist?", user_id="u", top_k=1).results[0].id == note.id
    mem.runtime.reinforcer.flush(mem.runtime.db)
    after = mem.get(note.id or "", user_id="u")
    assert after.recall_count == 1 and after.strength == 2.0
    assert after.last_recalled_at == LATER  # not the wall clock


def test_an_explicit_as_of_still_wins_and_a_recall_moves_the_clock(mem: Memory) -> None:
    mem.add("I live in Porto.", user_id="u", timestamp=T0, infer=False)
    ask = T0 + timedelta(days=400)
    mem.search("where do I live?", user_id="u", as_of=ask)
    mem.runtime.reinforcer.flush(mem.runtime.db)
    assert _clock(mem, "u") == ask
    assert _clock(mem, "nobody") is None


def test_restoring_a_memory_counts_as_a_recall(mem: Memory) -> None:
    note = mem.add("I play the cello.", user_id="u", timestamp=T0, infer=False).results[0]
    mem.update(note.id or "", status="forgotten", user_id="u")
    restored = mem.update(note.id or "", status="active", user_id="u")
    assert restored.recall_count == 1 and restored.last_recalled_at == T0
