"""SPANN tuning knobs, one frozen model shared by build, search, updates and the GPU path.

Names follow SPANN (Chen et al., NeurIPS 2021) / SPTAG where one exists; defaults were tuned on
real all-MiniLM-L6-v2 embeddings (see bench/README.md, "ANN index benchmark")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SpannParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- layout -----------------------------------------------------------------------------
    # Most entries a posting list may hold: the build truncates longer lists (keeping every
    # vector's nearest-head entry) and an online insert that pushes a list past it splits it.
    posting_size: int = Field(120, ge=8, le=100_000)
    # Heads as a share of the vectors: SPANN keeps 10-16 % of N as in-memory centroids.
    head_ratio: float = Field(0.12, gt=0.0, le=0.5)
    # Each vector goes to at most this many lists (SPANN's multi-cluster assignment).
    replicas: int = Field(8, ge=1, le=32)
    # Candidate heads considered for a vector's replicas (SPTAG: 64 nearest heads).
    replica_candidates: int = Field(64, ge=1, le=1024)
    # Closure rule: a replica head must be within this ratio of the nearest head's L2 distance.
    replica_ratio: float = Field(1.4, ge=1.0)
    # RNG rule: skip head c when an already chosen head c' has rng_factor * d(c, c') < d(x, c).
    rng_factor: float = Field(1.0, gt=0.0)
    # Project centroids onto the unit sphere (spherical k-means). Raw centroids of unit
    # vectors shrink toward the mean, so head-head distances undercut point-head distances and
    # the RNG rule would block nearly every replica; unit heads behave like SPTAG's data-point
    # heads, and L2 order to them equals cosine order.
    unit_heads: bool = True
    # On-disk element type of the posting vectors.
    dtype: Literal["fp16", "fp32"] = "fp16"
    page_size: int = Field(4096, ge=512)

    # --- search -----------------------------------------------------------------------------
    # Query-aware pruning: probe list c only while d(q, c) <= probe_ratio * d(q, nearest head),
    # and never more than max_probe lists (SPANN: 32-64).
    max_probe: int = Field(96, ge=1, le=4096)
    probe_ratio: float = Field(1.5, ge=1.0)
    # How posting lists are read: one mmap gather for all lists, or one pread per list.
    io: Literal["mmap", "pread"] = "mmap"

    # --- head index -------------------------------------------------------------------------
    head_index: Literal["auto", "flat", "hnsw"] = "auto"
    # "auto" switches from an exact flat head index to HNSW at this many heads.
    hnsw_threshold: int = Field(8192, ge=1)
    hnsw_m: int = Field(32, ge=4, le=128)
    hnsw_ef_construction: int = Field(100, ge=8)
    hnsw_ef_search: int = Field(160, ge=8)

    # --- clustering ---------------------------------------------------------------------------
    kmeans_iters: int = Field(8, ge=1, le=100)
    kmeans_branch: int = Field(64, ge=2, le=1024)
    # Size penalty of the balanced assignment (0 = plain k-means).
    balance_weight: float = Field(1.0, ge=0.0)
    seed: int = 1234

    # --- online updates (SPFresh) -----------------------------------------------------------
    # Lists with fewer live entries than this are merged into their neighbours by compaction.
    merge_size: int = Field(4, ge=0)
    # Neighbouring lists whose boundary vectors are re-examined after a split.
    reassign_neighbors: int = Field(8, ge=0, le=256)

    # --- GPU --------------------------------------------------------------------------------
    # "auto" uses CUDA (through torch) for batches of at least gpu_min_batch queries.
    device: Literal["auto", "cpu", "cuda"] = "auto"
    gpu_min_batch: int = Field(32, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> SpannParams:
        if self.replica_candidates < self.replicas:
            raise ValueError("replica_candidates must be >= replicas")
        if self.page_size & (self.page_size - 1):
            raise ValueError("page_size must be a power of two")
        return self

    @classmethod
    def from_dict(cls, values: Mapping[str, float | int | str | bool] | None) -> SpannParams:
        """Build from a flat mapping such as ``settings.index.spann``; unknown keys raise."""
        return cls.model_validate(dict(values or {}))

    @property
    def itemsize(self) -> int:
        return 2 if self.dtype == "fp16" else 4
