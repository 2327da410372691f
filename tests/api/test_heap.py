"""The server's heap is frozen while it runs (full collections skip it), unfrozen when it
stops, frozen again once the document model has loaded; /metrics shows collections."""

from __future__ import annotations

import gc
import re
import time
from pathlib import Path

import httpx
import pytest

from memsvc.api import create_app
from memsvc.api.heap import HeapFreezer
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings


def _metric(text: str, name: str, generation: int) -> float:
    found = re.search(rf'^{name}{{generation="{generation}"}} (\S+)$', text, re.M)
    assert found, name
    return float(found.group(1))


def test_frozen_while_serving_and_counted_in_metrics(
    tmp_path: Path, embedder: CachedEmbedder
) -> None:
    assert gc.get_freeze_count() == 0
    with LiveServer(create_app(make_settings(tmp_path), embedder=embedder)) as srv:
        frozen = gc.get_freeze_count()
        # Everything the process holds is skipped by collections: far more than what is left.
        assert frozen > 10 * len(gc.get_objects(generation=2))
        before = httpx.get(f"{srv.url}/metrics").text
        gc.collect()  # a full collection, timed by the server's callback
        after = httpx.get(f"{srv.url}/metrics").text
        assert _metric(after, "memsvc_gc_collections_total", 2) >= (
            _metric(before, "memsvc_gc_collections_total", 2) + 1
        )
        assert _metric(after, "memsvc_gc_pause_seconds_total", 2) > 0
        shown = re.search(r"^memsvc_gc_frozen_objects (\d+)$", after, re.M)
        assert shown and int(shown.group(1)) > 0
    assert gc.get_freeze_count() == 0  # stopped: the process is as it was


def test_off_leaves_the_heap_alone(tmp_path: Path, embedder: CachedEmbedder) -> None:
    settings = make_settings(tmp_path, api={"gc_freeze": False})
    with LiveServer(create_app(settings, embedder=embedder)):
        assert gc.get_freeze_count() == 0
    assert gc.get_freeze_count() == 0


class _Loading:
    """An embedder whose document model is loading until the test says it has loaded."""

    def __init__(self) -> None:
        self.documents_state = "loading"


def _collected(objs: list[list[int]]) -> int:
    """How many of `objs` the collector still walks (frozen ones it does not)."""
    mine = {id(o) for o in objs}
    return sum(1 for o in gc.get_objects() if id(o) in mine)


@pytest.mark.parametrize("first", ["loading", "not loaded"])  # background, lazy
def test_frozen_again_once_the_document_model_is_in(first: str) -> None:
    emb = _Loading()
    emb.documents_state = first
    freezer = HeapFreezer(emb)
    try:
        freezer.start()
        assert gc.get_freeze_count() > 0
        # What the load brings in (lists: CPython does not track dicts of plain values).
        model = [[i] for i in range(5000)]
        time.sleep(0.5)
        assert _collected(model) == len(model)  # still loading: not frozen yet
        emb.documents_state = "loaded"
        deadline = time.monotonic() + 5
        while _collected(model) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _collected(model) == 0
    finally:
        freezer.close()
    assert gc.get_freeze_count() == 0
    assert _collected(model) == len(model)  # unfrozen: walked again
