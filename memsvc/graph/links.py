"""`LinkGraph`: the links of one partition as an undirected weighted graph.

A-MEM links are symmetric in meaning ("related to"), so expansion walks them both ways. A
search builds one from the links around its seeds (`memsvc.stores.graphs`) and drops it: no
graph outlives a search, so none is shared between threads or kept in step with writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx


class LinkGraph:
    def __init__(self, edges: Iterable[tuple[int, int, float]] = ()) -> None:
        self._g: nx.Graph = nx.Graph()
        self.add_many(edges)

    def add_many(self, edges: Iterable[tuple[int, int, float]]) -> None:
        """Each pair keeps its strongest link (either direction, never below 0), self-links
        dropped. Folded in a dict and added in one call: edge by edge, a 100k-note scope's
        148k links took 1.8 s, paid by its first search."""
        best: dict[tuple[int, int], float] = {}
        for a, b, w in edges:
            if a != b:
                key = (a, b) if a < b else (b, a)
                best[key] = max(best.get(key, 0.0), w)
        if self._g.number_of_edges():
            for (a, b), w in best.items():
                old = self._g.get_edge_data(a, b, default={}).get("weight", 0.0)
                best[(a, b)] = max(old, w)
        self._g.add_weighted_edges_from((a, b, w) for (a, b), w in best.items())

    def neighbors(self, node: int) -> dict[int, float]:
        if node not in self._g:
            return {}
        return {n: float(d.get("weight", 1.0)) for n, d in self._g[node].items()}

    def expand(
        self, seeds: Mapping[int, float], hops: int, damping: float
    ) -> dict[int, tuple[float, int]]:
        """Scores for notes reachable from `seeds` within `hops` links, excluding the seeds.

        A neighbour inherits `damping * seed_score * link_weight` per hop (the best path
        wins); the value is (score, seed it came through)."""
        if hops <= 0 or not seeds:
            return {}
        best: dict[int, tuple[float, int]] = {}
        frontier = {node: (score, node) for node, score in seeds.items()}
        for _ in range(hops):
            nxt: dict[int, tuple[float, int]] = {}
            for node, (score, origin) in frontier.items():
                if node not in self._g:
                    continue
                for nb, data in self._g[node].items():
                    if nb in seeds:
                        continue
                    cand = score * damping * float(data.get("weight", 1.0))
                    if cand > best.get(nb, (-1.0, 0))[0]:
                        best[nb] = (cand, origin)
                        nxt[nb] = (cand, origin)
            frontier = nxt
        return best

    def __len__(self) -> int:
        return int(self._g.number_of_edges())

    def __contains__(self, node: object) -> bool:
        return node in self._g
