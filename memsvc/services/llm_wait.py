"""How long a request may wait for the LLM: at most a bound, then the offline path.

Why: with an LLM configured and `wait=true`, an add used to hold its request (and a server
thread) for as long as the LLM took, retries included: 33 s at p50 under load, past the
SDK's timeout, and enough of them filled the thread pool. Now the call runs on a thread of
its own and the request waits at most `llm.wait_bound_s`; if the answer is not in by then
the notes are written from the offline plan (searchable at once) and queued for enrichment
by the durable job queue, which calls the LLM again without a bound. The late answer is
discarded: applying it would race the write of the offline plan, and the job redoes it.

At most `llm.wait_max_calls` such calls run at once per LLM client, so a slow LLM cannot
pile up threads without limit: a request that finds them all busy waits for a free one
within the same bound, then takes the offline path.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from memsvc.llm import LLMClient, LLMUsage

T = TypeVar("T")

_waiters: weakref.WeakKeyDictionary[LLMClient, BoundedCalls] = weakref.WeakKeyDictionary()
_waiters_lock = threading.Lock()


class BoundedCalls:
    """Runs calls on daemon threads (at most `max_calls` at once) and waits for each one
    at most a given number of seconds."""

    def __init__(self, max_calls: int) -> None:
        self._slots = threading.BoundedSemaphore(max(1, max_calls))
        self.timed_out = 0  # calls whose caller stopped waiting (for tests and metrics)

    def call(self, fn: Callable[[], T], bound_s: float) -> tuple[bool, T | None]:
        """(True, result) if `fn` returned within `bound_s`, else (False, None). An exception
        raised by `fn` in time is raised here."""
        deadline = time.monotonic() + max(0.0, bound_s)
        if not self._slots.acquire(timeout=max(0.0, bound_s)):
            self.timed_out += 1
            return False, None
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # delivered to the caller, if it still waits
                future.set_exception(exc)
            finally:
                self._slots.release()

        # A daemon: a call still running at shutdown must not keep the process alive (the
        # client's close() also stops its retries).
        threading.Thread(target=run, name="memsvc-llm-bounded", daemon=True).start()
        try:
            return True, future.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            self.timed_out += 1
            return False, None


def bounded_calls(client: LLMClient, max_calls: int) -> BoundedCalls:
    """The `BoundedCalls` of this LLM client (one per client, shared by its users)."""
    with _waiters_lock:
        found = _waiters.get(client)
        if found is None:
            found = _waiters[client] = BoundedCalls(max_calls)
        return found


def call_llm(
    client: LLMClient, fn: Callable[[LLMUsage], T], *, usage: LLMUsage, bound_s: float | None
) -> T | None:
    """`fn(usage)` waited for at most `bound_s` seconds (None: as long as it takes); None when
    the bound passed. Counts reach `usage` only from an answer in time; a call given up on
    counts as one failed call (the offline path took over)."""
    if bound_s is None:
        return fn(usage)
    local = LLMUsage()
    done, result = bounded_calls(client, client.settings.wait_max_calls).call(
        lambda: fn(local), bound_s
    )
    if done:
        usage.add(local)
        return result
    usage.record_call()
    usage.record_failure()
    return None
