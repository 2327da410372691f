"""MemoryBank retention math: R = exp(-t/S), reinforcement, vectorised form."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from memsvc.decay import reinforce, retention, retention_many
from memsvc.decay.retention import forget_horizon_days

T = datetime(2024, 1, 1, tzinfo=UTC)


def test_retention_follows_the_ebbinghaus_curve() -> None:
    assert retention(1.0, T, T) == 1.0
    assert retention(1.0, T, T + timedelta(days=1)) == pytest.approx(math.exp(-1))
    assert retention(2.0, T, T + timedelta(days=1)) == pytest.approx(math.exp(-0.5))
    assert retention(1.0, T, T + timedelta(days=30), time_scale_days=30) == pytest.approx(
        math.exp(-1)
    )
    assert retention(1.0, T, T - timedelta(days=5)) == 1.0  # as_of before the last recall


def test_stronger_memories_fade_slower() -> None:
    later = T + timedelta(days=10)
    values = [retention(s, T, later) for s in (1.0, 2.0, 5.0)]
    assert values == sorted(values)


def test_reinforce_adds_strength_and_never_moves_the_clock_back() -> None:
    assert reinforce(1.0, T, T + timedelta(days=3)) == (2.0, T + timedelta(days=3))
    assert reinforce(2.0, T, T - timedelta(days=3)) == (3.0, T)


def test_vectorised_matches_scalar() -> None:
    strength = np.array([1.0, 2.0, 4.0])
    elapsed = np.array([0.0, 86_400.0, 5 * 86_400.0])
    expected = [
        retention(s, T, T + timedelta(seconds=e)) for s, e in zip(strength, elapsed, strict=True)
    ]
    assert retention_many(strength, elapsed) == pytest.approx(expected)
    with pytest.raises(ValueError):
        retention_many(np.ones(2), np.ones(3))
    with pytest.raises(ValueError):
        retention(0.0, T, T)


def test_forget_horizon_inverts_retention() -> None:
    days = forget_horizon_days(2.0, 0.05, time_scale_days=30)
    assert retention(2.0, T, T + timedelta(days=days), 30) == pytest.approx(0.05)
