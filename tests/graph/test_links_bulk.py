"""A link graph keeps, for each pair of notes, its strongest link in either direction (never
below 0) and no self-links, whether its edges come at construction, in batches or one by
one: checked against that rule written out as a dict."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from memsvc.graph import LinkGraph

Edge = tuple[int, int, float]
edge = st.tuples(
    st.integers(0, 12), st.integers(0, 12), st.floats(-1.0, 2.0, allow_nan=False, width=32)
)


def expected(edges: list[Edge]) -> dict[int, dict[int, float]]:
    out: dict[int, dict[int, float]] = {n: {} for n in range(13)}
    for a, b, w in edges:
        if a != b:
            out[a][b] = out[b][a] = max(out[a].get(b, 0.0), w)
    return out


@given(st.lists(edge, max_size=60), st.integers(0, 60))
def test_every_way_of_adding_keeps_the_strongest_link(edges: list[Edge], cut: int) -> None:
    bulk = LinkGraph(edges)
    batches = LinkGraph(edges[:cut])
    batches.add_many(edges[cut:])
    single = LinkGraph()
    for a, b, w in edges:
        single.add_many([(a, b, w)])
    want = expected(edges)
    for graph in (bulk, batches, single):
        assert {n: graph.neighbors(n) for n in range(13)} == want
