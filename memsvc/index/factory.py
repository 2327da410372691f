"""Backend factory: build or open a `VectorIndex` by kind. Heavy backends import lazily."""

from __future__ import annotations

from pathlib import Path

from memsvc.config import Settings
from memsvc.index.base import FloatArray, IdArray, IndexError_, VectorIndex, read_manifest
from memsvc.index.flat import FlatIndex

KINDS = ("flat", "spann")


def build_index(
    kind: str, ids: IdArray, vectors: FloatArray, *, dim: int, path: Path, settings: Settings
) -> VectorIndex:
    """A new index of `kind` holding `vectors`; `path` is its folder (SPANN keeps lists there)."""
    if kind == "flat":
        flat = FlatIndex(dim)
        if len(ids):
            flat.add(ids, vectors)
        return flat
    if kind == "spann":
        from memsvc.index.spann import SpannIndex, SpannParams

        params = SpannParams.from_dict(dict(settings.index.spann))
        return SpannIndex.build(ids, vectors, path, params)
    raise ValueError(f"unknown index kind {kind!r}; expected one of {KINDS}")


def load_index(path: Path) -> VectorIndex:
    kind = read_manifest(path).get("kind")
    if kind == "flat":
        return FlatIndex.load(path)
    if kind == "spann":
        from memsvc.index.spann import SpannIndex

        return SpannIndex.load(path)
    raise IndexError_(f"{path}: unknown index kind {kind!r}")
