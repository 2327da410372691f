"""Link graph expansion."""

from __future__ import annotations

import pytest

from memsvc.graph import LinkGraph


def test_expand_one_hop_with_damping() -> None:
    g = LinkGraph([(1, 2, 0.8), (2, 3, 1.0), (4, 5, 1.0)])
    out = g.expand({1: 0.9}, hops=1, damping=0.5)
    assert out == {2: (pytest.approx(0.9 * 0.5 * 0.8), 1)}
    two = g.expand({1: 0.9}, hops=2, damping=0.5)
    assert set(two) == {2, 3} and two[3][1] == 1
    assert g.expand({1: 0.9}, hops=0, damping=0.5) == {}


def test_best_path_wins_and_seeds_are_excluded() -> None:
    g = LinkGraph([(1, 3, 0.2), (2, 3, 0.9), (1, 2, 1.0)])
    out = g.expand({1: 1.0, 2: 0.5}, hops=1, damping=1.0)
    assert set(out) == {3} and out[3] == (pytest.approx(0.45), 2)


def test_self_links_are_dropped() -> None:
    g = LinkGraph([(1, 1, 1.0), (1, 2, 1.0)])
    assert len(g) == 1
    assert g.neighbors(1) == {2: 1.0} and g.neighbors(2) == {1: 1.0} and 3 not in g
