"""FAISS's OpenMP team, kept for work large enough to pay for it.

A FAISS call wakes every OpenMP thread and waits for all of them at a barrier, whatever its
size. For one query, or a few against a small partition, that start-up costs more than the
work: on a busy 2-core machine a flat search of 622 vectors took 10 ms with the team and
0.05 ms on one thread (bench/README.md, "Search latency"), and ingest's neighbour search (a
session's turns against their scope) paid ~9 ms a call the same way. The thread count is a
per-thread OpenMP setting, so narrowing it here never slows another thread's search.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import faiss

# (query, vector) pairs under which one thread beats the team: about 1 ms of 384-d inner
# products on one core.
SMALL_WORK = 1 << 18


@contextmanager
def faiss_single_thread() -> Iterator[None]:
    """FAISS calls of this thread run without an OpenMP team until the block ends."""
    prev = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(prev)


def threads_for(pairs: int) -> AbstractContextManager[None]:
    """One thread for a search of `pairs` (queries x vectors scanned) below SMALL_WORK."""
    return faiss_single_thread() if pairs < SMALL_WORK else nullcontext()
