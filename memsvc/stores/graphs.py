"""Link expansion at recall, read from `note_links` per search: only the seeds' neighbourhood.

Why not a cached graph of the whole partition: loading it cost a 100k-note scope's first
search 1.5-2.2 s (148k links into networkx, bench/README.md "2026-12-07 (third)"), held tens
of megabytes per partition for the life of the process (and every cached partition's graph
for a server of a thousand scopes), made each garbage collection walk its ~75,000 dicts,
and had to be kept in step with every write, delete, import and other replica. Expansion
only ever walks `hops` links out from a search's `top_k` seeds, so each hop reads the links
that touch the nodes it walks from: two indexed lookups a hop, in the caller's transaction
(so what it sees is what the search's other statements see, on any replica, with no cache
to go stale), and never a row of another partition.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy.orm import Session

from memsvc.db.queries import links
from memsvc.graph import LinkGraph


def neighbourhood(
    session: Session, partition: str, seeds: Collection[int], hops: int, damping: float
) -> LinkGraph:
    """The part of the partition's link graph that `LinkGraph.expand(seeds, hops)` walks.

    Expansion walks out of a node only after reaching it within `hops - 1` links, so the
    links of every node reached that far, read hop by hop, are all it needs: on this
    subgraph it gives exactly what it gives on the whole graph
    (`tests/graph/test_neighbourhood.py`)."""
    graph = LinkGraph()
    read: set[int] = set()
    frontier = set(seeds)
    for hop in range(1, hops + 1):
        graph.add_many(links.incident(session, partition=partition, pks=frontier - read))
        read |= frontier
        if hop < hops:
            # Reached within `hop` links: the next hop walks out of these.
            frontier = set(graph.expand(dict.fromkeys(seeds, 1.0), hop, damping))
    return graph


def expand(
    session: Session,
    partition: str,
    seeds: Mapping[int, float],
    hops: int,
    damping: float,
) -> dict[int, tuple[float, int]]:
    """`LinkGraph.expand` over the partition's links, reading only the seeds' neighbourhood."""
    if hops <= 0 or not seeds:
        return {}
    graph = neighbourhood(session, partition, list(seeds), hops, damping)
    return graph.expand(seeds, hops, damping)
