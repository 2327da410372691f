"""Link graphs per partition: loaded lazily from `note_links`, updated after each commit."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from memsvc.db.engine import Database
from memsvc.db.models import NoteLink
from memsvc.graph import LinkGraph
from memsvc.stores import replicas


class GraphStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._graphs: dict[str, LinkGraph] = {}
        self._lock = threading.Lock()
        # Another replica wrote to (or erased) a partition: reload its edges on next use.
        replicas.on_foreign_change(db, self.drop)

    def get(self, partition: str, session: Session | None = None) -> LinkGraph:
        """The partition's graph, loaded on first use through the caller's `session` when
        given: a search that opened a second connection while holding one could exhaust
        the pool under load and wait on itself."""
        with self._lock:
            graph = self._graphs.get(partition)
        if graph is not None:
            return graph
        stmt = select(NoteLink.source_pk, NoteLink.target_pk, NoteLink.weight).where(
            NoteLink.partition == partition
        )
        if session is not None:
            edges = session.execute(stmt).all()
        else:
            with self.db.read() as own:
                edges = own.execute(stmt).all()
        graph = LinkGraph((int(a), int(b), float(w)) for a, b, w in edges)
        with self._lock:
            return self._graphs.setdefault(partition, graph)

    def add_edges(self, partition: str, edges: list[tuple[int, int, float]]) -> None:
        with self._lock:
            graph = self._graphs.get(partition)
        if graph is None:
            return  # not loaded yet: the next get() reads the committed edges
        graph.add_many(edges)

    def remove_notes(self, partition: str, pks: list[int]) -> None:
        with self._lock:
            graph = self._graphs.get(partition)
        if graph is not None and pks:
            graph.remove_nodes(pks)

    def drop(self, partition: str) -> None:
        with self._lock:
            self._graphs.pop(partition, None)
