"""A graph built from its edges at once equals the one built edge by edge through `add`
(the strongest weight per pair, either direction, no self-loops)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from memsvc.graph import LinkGraph

edge = st.tuples(
    st.integers(0, 12), st.integers(0, 12), st.floats(0.0, 2.0, allow_nan=False, width=32)
)


@given(st.lists(edge, max_size=60))
def test_bulk_equals_one_by_one(edges: list[tuple[int, int, float]]) -> None:
    bulk = LinkGraph(edges)
    single = LinkGraph()
    for a, b, w in edges:
        single.add(a, b, w)
    for node in range(13):
        assert bulk.neighbors(node) == single.neighbors(node)
